#!/usr/bin/env python3
"""Crisis rotation benchmark (issue 15, acceptance 5).

Rotating 10,000 accounts with `portvakt crisis rotate` (every password,
session and app grant ended, a start code issued and every delivery queued)
must take <= 30 s, and `/auth/verify`'s p99 while it runs must stay <= 2x
its p99 at rest, measured in the same run.

Method (shared/BENCHMARKING.md): loopback only; the server and the command
pinned to core 1, wrk (-t1 -c50) on core 0 against `/auth/verify` with the
session of an account outside the rotated group. Per round: 10,000 fresh
sessions for the group, `wrk` 10 s at rest, then `wrk` while the rotation
runs (the rotation's wall time is measured around the command). Three
rounds (`--new` each time), medians; each round's rest is measured after
the previous round's messages have all been delivered. The mailbox adapter
(no mailbox for every third person, who get an SMS) and the SMS gateway are
local stubs, so the server also delivers while it answers.

Usage: python3 bench/rotation_bench.py [--debug] [--no-build]   (builds the binary first)

Environment: MODES=paced|saturated, ROUNDS (2), PEOPLE (10000), CONNS (wrk
connections, 50), CLI_CORE (1). Diagnostics: LATLOG=FILE logs every request
of a second, slower client (bench/verify_latency_log.py: time and latency,
from 2 s before the rotation) to see when the slow answers come;
CLI_SCHED=idle|short keeps the command's threads at SCHED_IDLE or at
SCHED_BATCH nice 9 with a 0.1 ms slice; HOG=batch|idle|normal runs a 6-second
stand-in at that priority instead of the rotation, HOG_KIND=cpu|sleepy|sqlite|
sqlitebig (a CPU loop, short bursts with sleeps, small or 400 kB SQLite
commits to another file; HOG_SYNC sets their `synchronous`); CLI_PERF=FILE
records the command with perf; CLI_WRAP="strace -f -c -o FILE" runs the
command under another tool; ALONG="CMD" runs CMD from a second before the
command until it ends (SIGINT then), e.g. "perf sched record -a -o FILE",
"perf trace -a -s -o FILE -e fsync,pwrite64" or "python3
bench/cpu_sampler.py FILE"; SERVER_SLICE=US gives the server's tokio threads
(every thread with SLICE_ALL=1) a custom EEVDF slice.
"""
import http.server
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBUG = "--debug" in sys.argv
BIN = os.path.join(ROOT, "target", "debug" if DEBUG else "release", "portvakt")
PEOPLE = int(os.environ.get("PEOPLE", "10000"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
CONNS = int(os.environ.get("CONNS", "50"))
PV_PORT = 18520
PASSWORD = "ett långt lösenord för mätningar"
USER = "bench.user@bench.se"


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class Backlogged(http.server.ThreadingHTTPServer):
    """Python's default listen backlog is 5: a server sending 20 messages at
    once would wait on dropped SYNs. Real gateways and adapters take more."""
    request_queue_size = 128
    daemon_threads = True


def stubs():
    """The mailbox adapter (no mailbox for every third person) and the SMS gateway."""
    counts = {"mailbox": 0, "sms": 0}
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            kind = "mailbox" if self.path == "/deliver" else "sms"
            if kind == "mailbox" and int(body["recipient"]["username"][1:].split("@")[0]) % 3 == 1:
                self.send_response(404)  # no digital mailbox: SMS next
                self.end_headers()
                return
            with lock:
                counts[kind] += 1
            self.send_response(202)
            self.end_headers()

    srv = Backlogged(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, counts


def org_file(port, seed_hash):
    lines = [
        "[[organisation]]", 'slug = "bench"', 'name = "Benchkommun"', 'domains = ["bench.se"]', "",
        "[organisation.crisis]", 'channels = ["mailbox", "sms", "manager", "servicedesk"]',
        f'mailbox_url = "http://127.0.0.1:{port}/deliver"', "",
        "[[organisation.zone]]", 'slug = "lokalt"', 'name = "Lokalt"', 'cidrs = ["127.0.0.0/8"]', "",
        "[[organisation.group]]", 'slug = "staff"', 'name = "Staff"', "",
        "[[organisation.group]]", 'slug = "it"', 'name = "IT"', "",
        "[[organisation.service]]", 'slug = "app"', 'name = "App"', 'url = "https://app.bench.se/"',
        'groups = ["staff", "it"]', 'host = "app.bench.se"', "",
        "[[organisation.user]]", f'username = "{USER}"', 'name = "Bench"', 'groups = ["it"]',
        f'password_hash = "{seed_hash}"', "",
    ]
    for i in range(PEOPLE):
        lines += ["[[organisation.user]]", f'username = "p{i}@bench.se"', f'name = "Person {i}"',
                  'groups = ["staff"]', f'password_hash = "{seed_hash}"']
        if i % 3 == 2:
            lines.append(f'unit = "Enhet {i % 40}"')
        lines.append("")
    return "\n".join(lines)


def wait_ready():
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PV_PORT, timeout=1)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def sign_in():
    body = urllib.parse.urlencode({"csrf": "A" * 43, "username": USER, "password": PASSWORD})
    c = http.client.HTTPConnection("127.0.0.1", PV_PORT, timeout=30)
    c.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "portvakt-csrf=" + "A" * 43})
    r = c.getresponse()
    assert r.status == 303, r.status
    for k, v in r.getheaders():
        if k.lower() == "set-cookie" and v.startswith("portvakt="):
            return v.split(";")[0]
    raise RuntimeError("no session cookie")


def verify_status(cookie):
    c = http.client.HTTPConnection("127.0.0.1", PV_PORT, timeout=5)
    headers = {"X-Original-URL": "https://app.bench.se/", "X-Forwarded-For": "127.0.0.1"}
    if cookie:
        headers["Cookie"] = cookie
    c.request("GET", "/auth/verify", headers=headers)
    return c.getresponse().status


def wrk_start(cookie, seconds, paced=False, conns=None):
    pace = ["-s", os.path.join(ROOT, "bench", "paced.lua")] if paced else []
    args = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns or CONNS}", f"-d{seconds}s", "--latency", *pace,
            "-H", "X-Original-URL: https://app.bench.se/", "-H", "X-Forwarded-For: 127.0.0.1",
            "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{PV_PORT}/auth/verify"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def wrk_result(p):
    out, _ = p.communicate()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    assert re.search(r"Non-2xx or 3xx responses", out) is None, f"refused checks:\n{out}"
    return rps, p99


def force_sched(proc, how, started=None):
    """Diagnostic: keeps every thread of `proc` at SCHED_IDLE (how=idle, or
    how=idle-issuing: only once the start has ended everything) or
    SCHED_BATCH nice 9 with a 0.1 ms slice (how=short)."""
    import ctypes, struct
    if how == "idle-issuing":
        started.wait()
        how = "idle"
    libc = ctypes.CDLL(None, use_errno=True)
    attr = struct.pack("IIQiIQQQ", 48, 5, 0, 0, 0, 0, 0, 0) if how == "idle" else \
        struct.pack("IIQiIQQQ", 48, 3, 0, 9, 0, 100000, 0, 0)
    buf = ctypes.create_string_buffer(attr)
    while os.path.exists(f"/proc/{proc.pid}/task"):
        try:
            for tid in os.listdir(f"/proc/{proc.pid}/task"):
                libc.syscall(314, int(tid), buf, 0)
        except OSError:
            pass
        time.sleep(0.001)


def set_slice(proc, ns):
    """Diagnostic: gives every thread of `proc` a custom EEVDF slice (SCHED_OTHER, nice 0)."""
    import ctypes, struct
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, 0, 0, 0, 0, ns, 0, 0))
    for tid in os.listdir(f"/proc/{proc.pid}/task"):
        name = open(f"/proc/{proc.pid}/task/{tid}/comm").read().strip()
        if name.startswith("tokio") or os.environ.get("SLICE_ALL"):
            r = libc.syscall(314, int(tid), buf, 0)
            print(f"  slice {ns} ns for {name} ({tid}): {r} {ctypes.get_errno()}", flush=True)


def fresh_sessions(db, round_no):
    conn = sqlite3.connect(db, timeout=30)
    org = conn.execute("SELECT id FROM organisations").fetchone()[0]
    users = [r[0] for r in conn.execute("SELECT id FROM users WHERE username LIKE 'p%@bench.se'")]
    now = int(time.time())
    conn.executemany(
        "INSERT INTO sessions (token_hash, organisation_id, user_id, created_at, last_seen_at, expires_at, "
        "ip, user_agent, amr) VALUES (?, ?, ?, ?, ?, ?, '127.0.0.1', 'bench', 'pwd')",
        [(f"bench-{round_no}-{i}", org, u, now, now, now + 36000) for i, u in enumerate(users)])
    conn.commit()
    conn.close()
    return len(users)


def drain(db, limit=180):
    """Waits until the outbox has nothing left to send (the rest baseline
    is measured with no delivery going on)."""
    deadline = time.time() + limit
    while time.time() < deadline:
        conn = sqlite3.connect(db, timeout=30)
        left = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND next_attempt_at < 9000000000000000000"
                            ).fetchone()[0]
        conn.close()
        if left == 0:
            return
        time.sleep(1)
    raise RuntimeError(f"the outbox did not drain in {limit} s")


def check_done(db, rid):
    conn = sqlite3.connect(db, timeout=30)
    try:
        pending = conn.execute("SELECT COUNT(*) FROM rotation_people WHERE rotation_id = ? AND state = 'pending'",
                               (rid,)).fetchone()[0]
        live = conn.execute("SELECT COUNT(*) FROM sessions WHERE token_hash LIKE 'bench-%' AND revoked_at IS NULL"
                            ).fetchone()[0]
        queued = conn.execute("SELECT COUNT(*) FROM rotation_people p JOIN outbox o ON o.id = p.outbox_id "
                              "WHERE p.rotation_id = ?", (rid,)).fetchone()[0]
        with_pw = conn.execute("SELECT COUNT(*) FROM users WHERE username LIKE 'p%@bench.se' "
                               "AND password_hash IS NOT NULL").fetchone()[0]
        return pending, live, queued, with_pw
    finally:
        conn.close()


def main():
    # Started in the background by a shell, this process and so wrk and the
    # logger would ignore SIGINT, which is how they are told to stop.
    import signal
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if "--no-build" not in sys.argv:
        build = ["cargo", "build", "--locked", "--bin", "portvakt"] + ([] if DEBUG else ["--release"])
        subprocess.run(build, cwd=ROOT, check=True)
    os.sched_setaffinity(0, {0})  # the stubs share core 0 with wrk, not the server's
    srv, counts = stubs()
    work = tempfile.mkdtemp(prefix="portvakt-rotation-bench-")
    db = os.path.join(work, "bench.db")
    config = os.path.join(work, "portvakt.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{PV_PORT}"\ndatabase_url = "sqlite://{db}"\ndev_mode = true\n'
                f'secret_key_file = "{work}/secret.key"\n'
                'trusted_proxies = ["127.0.0.1/32"]\n[lockout]\nip_max_failures = 100000000\n'
                '[forward_auth]\nportal_url = "https://portal.bench.se"\ndomains = ["bench.se"]\n'
                f'[sms]\ngateway_url = "http://127.0.0.1:{srv.server_port}/send"\n')
    import base64
    with open(os.path.join(work, "secret.key"), "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    os.chmod(os.path.join(work, "secret.key"), 0o600)
    seed = os.path.join(work, "seed.toml")
    with open(seed, "w") as f:
        f.write('[[organisation]]\nslug = "bench"\nname = "Benchkommun"\ndomains = ["bench.se"]\n'
                f'[[organisation.user]]\nusername = "seed@bench.se"\nname = "Seed"\n'
                f'initial_password = "{PASSWORD}"\n')
    sh(BIN, "apply", seed, "--config", config)
    conn = sqlite3.connect(db)
    (seed_hash,) = conn.execute("SELECT password_hash FROM users").fetchone()
    conn.close()
    org = os.path.join(work, "org.toml")
    with open(org, "w") as f:
        f.write(org_file(srv.server_port, seed_hash))
    t0 = time.time()
    sh(BIN, "apply", org, "--config", config)
    print(f"apply of {PEOPLE} accounts: {time.time() - t0:.1f} s", flush=True)
    # A second SMS-reachable number for every third person: registered factors.
    conn = sqlite3.connect(db)
    orgid = conn.execute("SELECT id FROM organisations").fetchone()[0]
    users = conn.execute("SELECT id, username FROM users WHERE username LIKE 'p%@bench.se'").fetchall()
    conn.executemany(
        "INSERT INTO factors (id, organisation_id, user_id, kind, label, confirmed, created_at, destination) "
        "VALUES (?, ?, ?, 'sms', 'Mobil', 1, 0, ?)",
        [(f"fac_b{i}", orgid, u, f"4670{i:07d}") for i, (u, name) in enumerate(users) if i % 3 == 1])
    conn.commit()
    conn.close()

    server = subprocess.Popen(["taskset", "-c", "1", BIN, "serve", "--config", config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready()
    if os.environ.get("SERVER_SLICE"):
        set_slice(server, int(float(os.environ["SERVER_SLICE"]) * 1000))
    cookie = sign_in()
    assert verify_status(cookie) == 200 and verify_status(None) == 401, "the check really runs"
    results = {}
    latlog_ratios = []
    rnd = 0
    modes = {"saturated": (False,), "paced": (True,)}.get(os.environ.get("MODES", ""), (False, True))
    for paced in modes:
        rest, during, walls = [], [], []
        for _ in range(ROUNDS):
            t_drain = time.time()
            drain(db)
            if rnd:
                print(f"  (the previous round's messages were delivered {time.time() - t_drain:.0f} s later)", flush=True)
            n = fresh_sessions(db, rnd)
            wrk_result(wrk_start(cookie, 3, paced))  # warm-up
            rest.append(wrk_result(wrk_start(cookie, 10, paced)))
            load = wrk_start(cookie, 90, paced)
            latlog = None
            if os.environ.get("LATLOG"):
                t_log = time.time()
                latlog = subprocess.Popen(["taskset", "-c", "0", "python3", os.path.join(ROOT, "bench", "verify_latency_log.py"), str(PV_PORT), cookie, "120",
                                  os.environ["LATLOG"]])
                time.sleep(2)
            time.sleep(0.2)
            # Diagnostic: ALONG="CMD" runs beside the command (from a second before it until it
            # ends, then SIGINT), e.g. "perf sched record -a -o FILE" or "perf trace -a -s -o FILE".
            sched_perf = subprocess.Popen(os.environ["ALONG"].split(), stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL) if os.environ.get("ALONG") else None
            if sched_perf:
                time.sleep(1)
            if os.environ.get("SNAPSHOT"):  # diagnostic: the database as the rotation finds it
                snap = sqlite3.connect(db, timeout=30)
                snap.execute("VACUUM INTO ?", (os.environ["SNAPSHOT"],))
                snap.close()
            t0 = time.time()
            perf = ["perf", "record", "-g", "-o", os.environ["CLI_PERF"], "--"] if os.environ.get("CLI_PERF") else []
            hog = {"batch": ["chrt", "-b", "0", "nice", "-n", "9"], "idle": ["chrt", "-i", "0"], "normal": []}.get(os.environ.get("HOG", ""))
            hog_code = {
                "cpu": "while 1: pass",
                # short bursts with sleeps between: wake-ups, no I/O
                "sleepy": "import time\nwhile 1:\n    sum(range(300)); time.sleep(0.00005)",
                # small synchronous SQLite commits to another file: fsyncs
                "sqlite": "import sqlite3, os\nc = sqlite3.connect(os.environ['HOGDB'], isolation_level=None)\n"
                          "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA synchronous=FULL')\n"
                          "c.execute('CREATE TABLE IF NOT EXISTS t (x, y)')\n"
                          "while 1: c.execute('BEGIN'); c.executemany('INSERT INTO t VALUES (?, ?)', [(i, 'x' * 200) for i in range(20)]); c.execute('COMMIT')",
                # large synchronous commits (400 kB each) to another file: big fsyncs and checkpoints
                "sqlitebig": "import sqlite3, os\nc = sqlite3.connect(os.environ['HOGDB'], isolation_level=None)\n"
                             "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA synchronous=' + os.environ.get('HOG_SYNC', 'FULL'))\n"
                             "c.execute('CREATE TABLE IF NOT EXISTS t (x, y)')\n"
                             "while 1: c.execute('BEGIN'); c.executemany('INSERT INTO t VALUES (?, ?)', [(i, os.urandom(100).hex()) for i in range(2000)]); c.execute('COMMIT')",
            }.get(os.environ.get("HOG_KIND", "cpu"))
            os.environ["HOGDB"] = os.path.join(work, "hog.db")
            command = [*hog, "timeout", "6", "python3", "-c", hog_code] if hog else \
                [BIN, "crisis", "rotate", "--org", "bench", "--group", "staff", "--yes", "--new", "--config", config]
            perf += os.environ.get("CLI_WRAP", "").split()  # diagnostic: e.g. "strace -f -c -o FILE"
            cli = subprocess.Popen([*perf, "taskset", "-c", os.environ.get("CLI_CORE", "1"), *command],
                                   stdout=subprocess.PIPE, text=True,
                                   stderr=open(os.environ["CLI_STDERR"], "a") if os.environ.get("CLI_STDERR") else subprocess.DEVNULL)
            t_start = time.time()

            started = threading.Event()

            def lines(out=cli.stdout):
                for line in out:
                    if "has ended" in line:
                        started.set()
                        print(f"  passwords and sessions ended {time.time() - t_start:.2f} s after the start", flush=True)

            threading.Thread(target=lines, daemon=True).start()
            if os.environ.get("CLI_SCHED"):
                threading.Thread(target=force_sched, args=(cli, os.environ["CLI_SCHED"], started), daemon=True).start()
            _, status, usage = os.wait4(cli.pid, 0)
            cli.returncode = 0
            if hog:
                print(f"  hog {os.environ['HOG']} {os.environ.get('HOG_KIND', 'cpu')}: verify p99 at rest {rest[-1][1]:.2f} ms, "
                      f"during {wrk_result(load)[1]:.2f} ms; the hog used {usage.ru_utime:.2f} s user + {usage.ru_stime:.2f} s system")
                if latlog:
                    latlog.send_signal(2)
                    latlog.wait()
                    logged = [tuple(map(float, line.split())) for line in open(os.environ["LATLOG"])]
                    for name, a, b in (("rest", t_log + 0.3, t0), ("during", t0, t0 + 6)):
                        v = sorted(l for t, l in logged if a <= t < b)
                        print(f"  per-request log {name}: p99 {v[int(len(v) * 0.99)]:.2f} ms")
                sys.exit(0)
            assert status == 0, status
            print(f"  the command used {usage.ru_utime:.2f} s user + {usage.ru_stime:.2f} s system CPU", flush=True)
            wall = time.time() - t0
            if sched_perf:
                sched_perf.send_signal(2)
                sched_perf.wait()
            load.send_signal(2)  # SIGINT: wrk prints what it has
            during.append(wrk_result(load))
            walls.append(wall)
            if latlog:
                latlog.send_signal(2)
                latlog.wait()
                logged = [tuple(map(float, line.split())) for line in open(os.environ["LATLOG"])]
                def p99(a, b):
                    v = sorted(l for t, l in logged if a <= t < b)
                    return v[int(len(v) * 0.99)] if v else float("nan")
                r, d = p99(t_log + 0.3, t0), p99(t0, t0 + wall)
                print(f"  per-request log: p99 at rest {r:.2f} ms, during {d:.2f} ms, ratio {d / r:.2f}", flush=True)
                latlog_ratios.append(d / r)
            conn = sqlite3.connect(db, timeout=30)
            rid = conn.execute("SELECT id FROM rotations ORDER BY started_at DESC, rowid DESC").fetchone()[0]
            conn.close()
            pending, live, queued, with_pw = check_done(db, rid)
            assert (pending, live, with_pw) == (0, 0, 0), (pending, live, with_pw)
            mode = "paced" if paced else "saturated"
            print(f"{mode} round {rnd + 1}: {n} people rotated in {wall:.2f} s; {queued} messages queued; "
                  f"verify p99 at rest {rest[-1][1]:.2f} ms, during {during[-1][1]:.2f} ms "
                  f"({rest[-1][0]:,.0f} / {during[-1][0]:,.0f} req/s)", flush=True)
            rnd += 1
        results[paced] = (rest, during, walls)
    server.terminate()
    server.wait()
    srv.shutdown()
    shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    walls = [w for (_, _, ws) in results.values() for w in ws]
    print(f"rotation of {PEOPLE} accounts: median {med(walls):.2f} s (runs {', '.join(f'{w:.2f}' for w in walls)}),"
          f" target <= 30 s")
    for paced, (rest, during, _) in results.items():
        p99r, p99d = med(r[1] for r in rest), med(d[1] for d in during)
        ratios = [d[1] / r[1] for r, d in zip(rest, during)]
        print(f"/auth/verify p99 ({'paced, wrk -c50 with 1 ms between requests' if paced else 'saturated, wrk -c50'}): "
              f"at rest {p99r:.2f} ms, during the rotation {p99d:.2f} ms, ratio of medians {p99d / p99r:.2f}, "
              f"per round {', '.join(f'{x:.2f}' for x in ratios)} (target <= 2)")
    if latlog_ratios:
        print(f"per-request log p99 ratios: {', '.join(f'{x:.2f}' for x in latlog_ratios)}, median {med(latlog_ratios):.2f}")
    print(f"delivered to the stubs meanwhile: {counts}")


if __name__ == "__main__":
    try:
        main()
    finally:
        subprocess.run(["pkill", "-f", "portvakt-rotation-bench-"], check=False)
