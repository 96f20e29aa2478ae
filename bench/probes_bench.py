#!/usr/bin/env python3
"""What running health probes costs (issue 5, acceptance 3, last part).

500 probes at 30 s intervals against one nginx on 127.0.0.1 (core 0):
300 HTTP probes (GET, expect 200 and a text in the body), 150 TCP connects
and 50 TLS handshakes with certificate verification (our own CA) and the
days-left check. Portvakt runs pinned to core 1 with the release binary and
the default flush (figures and views written once a minute).

Measured: CPU time (user + system, /proc/<pid>/stat) of the portvakt
process over a 120 s window that starts 40 s after launch, so every probe
has started (first checks are spread over the interval) and two flushes
fall inside it. Baseline in the same run: the same server, organisation and
window with `run_probes = false`. Reported: probe CPU as % of one core, and
the ratio to the idle baseline. Target: <= 5 % of one core.

The run also checks the probes really worked: 500 watching, none down,
and 90-day figures written.

Usage: python3 bench/probes_bench.py   (builds the release binary first)
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "portvakt")
NGINX = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "nginx"
PORT = 18496
HTTP_PORT = 18601
TLS_PORT = 18602
WARMUP = 40
WINDOW = 120
TICK = os.sysconf("SC_CLK_TCK")


def sh(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def certificates(work):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    sh(["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
        "-subj", "/CN=Bench CA"], work)
    sh(["openssl", "req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"], work)
    with open(os.path.join(work, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n")
    sh(["openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "20", "-extfile", "ext.cnf"], work)
    for f in ("leaf.pem", "leaf.key", "ca.pem"):
        os.chmod(os.path.join(work, f), 0o644)


def start_nginx(work):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    server {{ listen 127.0.0.1:{HTTP_PORT}; location / {{ return 200 "status: ok"; }} }}
    server {{
        listen 127.0.0.1:{TLS_PORT} ssl;
        ssl_certificate {work}/leaf.pem; ssl_certificate_key {work}/leaf.key;
        location / {{ return 200 "ok"; }}
    }}
}}
""")
    p = subprocess.Popen(["taskset", "-c", "0", NGINX, "-p", work, "-c", conf, "-g", "daemon off;"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return p


def organisation(work):
    org = ['[[organisation]]', 'slug = "bench"', 'name = "Benchkommun"']
    for i in range(50):
        org += ['[[organisation.status_component]]', f'slug = "c{i}"', f'name = "Tjänst {i}"',
                f'group = "Grupp {i // 10}"']
    ca = os.path.join(work, "ca.pem")
    for i in range(500):
        org += ['[[organisation.probe]]', f'slug = "p{i}"', f'component = "c{i // 10}"']
        if i < 300:
            org += [f'http = "http://127.0.0.1:{HTTP_PORT}/health/{i}"', 'expect_body = "ok"']
        elif i < 450:
            org += [f'tcp = "127.0.0.1:{HTTP_PORT}"']
        else:
            org += [f'tls = "127.0.0.1:{TLS_PORT}"', 'server_name = "localhost"', f'ca_file = "{ca}"',
                    'min_days_left = 7']
    path = os.path.join(work, "org.toml")
    with open(path, "w") as f:
        f.write("\n".join(org) + "\n")
    return path


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run(work, run_probes):
    db = os.path.join(work, f"bench-{run_probes}.db")
    config = os.path.join(work, f"portvakt-{run_probes}.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{PORT}"\ndatabase_url = "sqlite://{db}"\ndev_mode = true\n'
                f'default_organisation = "bench"\n[status]\nrun_probes = {str(run_probes).lower()}\n')
    sh([BIN, "apply", organisation(work), "--config", config], work)
    server = subprocess.Popen(["taskset", "-c", "1", BIN, "serve", "--config", config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(WARMUP)
        c0, t0 = cpu_seconds(server.pid), time.monotonic()
        time.sleep(WINDOW)
        c1, t1 = cpu_seconds(server.pid), time.monotonic()
        status = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/status/bench.json",
                                                   timeout=5).read())
    finally:
        server.terminate()
        server.wait()
    return (c1 - c0) / (t1 - t0) * 100, status


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "portvakt"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="portvakt-probes-bench-")
    os.chmod(work, 0o755)  # nginx's workers run as an unprivileged user
    os.makedirs(os.path.join(work, "tmp"))
    certificates(work)
    nginx = start_nginx(work)
    try:
        base, _ = run(work, False)
        probes, status = run(work, True)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(work, ignore_errors=True)
    watching = status["probes"]["watching"]
    down = status["probes"]["down"]
    checks = sum(d["checks"] for c in status["components"] for d in c["uptime"]["history"])
    assert watching == 500 and not down and checks > 0, (watching, down, checks)
    print(f"500 probes at 30 s (300 HTTP, 150 TCP, 50 TLS) on 127.0.0.1; {checks} checks recorded, none down")
    print(f"portvakt CPU over {WINDOW} s, pinned to one core:")
    print(f"  baseline (same server, run_probes = false): {base:.3f} % of one core")
    print(f"  with the 500 probes running:                {probes:.3f} % of one core"
          f"  (probes alone {probes - base:.3f} %; target <= 5 %)")


if __name__ == "__main__":
    main()
