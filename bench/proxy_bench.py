#!/usr/bin/env python3
"""Built-in reverse proxy benchmark (issue 4, acceptance 4c).

Portvakt's proxy (the app at its own host `app.bench.se`, with the session
check and access decision it always makes; since issue 10, `/apps/…` is
served only on a separate apps origin, never on the portal's host) against
nginx `proxy_pass` (no check) and nginx `auth_request` + `proxy_pass` to
Portvakt's `/auth/verify` (the full gateway), all to the same upstream: a
second nginx serving a small file.
The proxy under test and the upstream share core 1, wrk runs on core 0;
3 s warm-up, 10 s runs, alternated 3 times, medians reported.

Usage: python3 bench/proxy_bench.py   (builds the release binary first)
"""
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import forward_auth_bench as fab

UP_PORT, PROXY_PORT = 18493, 18494


def nginx(work, name, conf):
    path = os.path.join(work, f"{name}.conf")
    with open(path, "w") as f:
        f.write(f"""
worker_processes 1;
pid {work}/{name}.pid;
error_log {work}/{name}-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    {conf}
}}
""")
    return subprocess.Popen(["taskset", "-c", "1", fab.NGINX, "-p", work, "-c", path, "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wrk(url, cookie, seconds):
    args = ["taskset", "-c", "0", "wrk", "-t1", "-c50", f"-d{seconds}s", "--latency",
            "-H", "Host: app.bench.se", "-H", f"Cookie: {cookie}", url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert "Non-2xx" not in out, out
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "portvakt"], cwd=fab.ROOT, check=True)
    work = tempfile.mkdtemp(prefix="portvakt-proxy-bench-")
    os.chmod(work, 0o755)  # nginx's workers run as an unprivileged user
    os.makedirs(os.path.join(work, "tmp"))
    os.makedirs(os.path.join(work, "html"))
    with open(os.path.join(work, "html", "index.html"), "w") as f:
        f.write("<!doctype html><title>app</title><p>" + "x" * 512 + "</p>\n")
    upstream = nginx(work, "upstream", f"""
    server {{ listen 127.0.0.1:{UP_PORT}; root {work}/html; location / {{ try_files /index.html =404; }} }}""")
    config = os.path.join(work, "portvakt.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{fab.PV_PORT}"\ndatabase_url = "sqlite://{work}/bench.db"\ndev_mode = true\n'
                'trusted_proxies = ["127.0.0.1/32"]\n[lockout]\nip_max_failures = 100000000\n'
                '[forward_auth]\nportal_url = "https://portal.bench.se"\ndomains = ["bench.se"]\n')
    org = os.path.join(work, "org.toml")
    with open(org, "w") as f:
        f.write(fab.ORG.replace('host = "app.bench.se"',
                                f'host = "app.bench.se"\nupstream = "http://127.0.0.1:{UP_PORT}"'))
    fab.sh(fab.BIN, "apply", org, "--config", config)
    server = subprocess.Popen(["taskset", "-c", "1", fab.BIN, "serve", "--config", config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fab.wait_port(fab.PV_PORT)
    cookie = fab.sign_in()

    plain = f"""
    upstream app {{ server 127.0.0.1:{UP_PORT}; keepalive 32; }}
    server {{ listen 127.0.0.1:{PROXY_PORT};
        location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}"""
    gateway = f"""
    upstream app {{ server 127.0.0.1:{UP_PORT}; keepalive 32; }}
    upstream pv {{ server 127.0.0.1:{fab.PV_PORT}; keepalive 32; }}
    server {{ listen 127.0.0.1:{PROXY_PORT};
        location = /verify {{ internal; proxy_pass http://pv/auth/verify; proxy_pass_request_body off;
            proxy_set_header Content-Length ""; proxy_http_version 1.1; proxy_set_header Connection "";
            proxy_set_header X-Original-URL https://$http_host$request_uri; proxy_set_header X-Forwarded-For $remote_addr; }}
        location / {{ auth_request /verify; proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}"""

    def run_nginx(conf):
        p = nginx(work, "proxy", conf)
        time.sleep(0.3)
        url = f"http://127.0.0.1:{PROXY_PORT}/"
        wrk(url, cookie, 3)
        r = wrk(url, cookie, 10)
        p.terminate(); p.wait()
        return r

    def run_portvakt():
        url = f"http://127.0.0.1:{fab.PV_PORT}/"
        wrk(url, cookie, 3)
        return wrk(url, cookie, 10)

    # Prove the proxy checks: without the session cookie nothing is served.
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", fab.PV_PORT, timeout=5)
    c.request("GET", "/", headers={"Host": "app.bench.se"})
    assert c.getresponse().status == 303, "the proxy must refuse a request without a session"
    # …and with it, it serves the upstream's file (so the numbers below are real proxying).
    c = http.client.HTTPConnection("127.0.0.1", fab.PV_PORT, timeout=5)
    c.request("GET", "/", headers={"Host": "app.bench.se", "Cookie": cookie})
    r = c.getresponse()
    body = r.read().decode()
    assert r.status == 200 and "x" * 512 in body, (r.status, body[:200])
    print(f"    proxied answer: {r.status}, {len(body)} bytes, server header {r.getheader('Server')!r}")

    n, g, pv = [], [], []
    for _ in range(3):
        n.append(run_nginx(plain))
        pv.append(run_portvakt())
        g.append(run_nginx(gateway))
    server.terminate(); server.wait()
    upstream.terminate(); upstream.wait()
    shutil.rmtree(work, ignore_errors=True)
    m = statistics.median
    print("(c) proxy to the same upstream (nginx serving a 0.5 KiB file), proxy + upstream on core 1, wrk -t1 -c50 on core 0")
    print(f"    nginx proxy_pass (no check):           {m(n):,.0f} req/s  runs {', '.join(f'{x:,.0f}' for x in n)}")
    print(f"    nginx auth_request + proxy_pass:        {m(g):,.0f} req/s  runs {', '.join(f'{x:,.0f}' for x in g)}")
    print(f"    Portvakt built-in proxy (with check):   {m(pv):,.0f} req/s  runs {', '.join(f'{x:,.0f}' for x in pv)}")
    print(f"    ratio to nginx proxy_pass: {m(pv) / m(n):.2f}  (target >= 0.9); "
          f"to the nginx gateway: {m(pv) / m(g):.2f}")


if __name__ == "__main__":
    try:
        main()
    finally:
        subprocess.run(["pkill", "-f", "portvakt-proxy-bench-"], check=False)
