#!/usr/bin/env python3
"""Can the time of a "forgot password" answer tell whether an account exists?

POST /reset for a registered account (an authenticator app, so a reset
really starts: a challenge and an event are written) and for unknown names,
interleaved, 400 of each, over one keep-alive connection on 127.0.0.1
(release binary pinned to core 1, this client on core 0). SQLite with
synchronous=FULL, so every write waits for the disk: the worst case for a
difference.

Reported: median and p90 answer time for each, and the ratio known/unknown
(1.00 means no difference). The work that depends on the name runs after
the answer (routes/reset.rs), so the ratio should stay at noise level.

Usage: python3 bench/reset_timing.py   (builds the release binary first)
"""
import http.client
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "portvakt")
PORT = 18497
USER = "kand@bench.se"
ROUNDS = 400


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "portvakt"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="portvakt-reset-bench-")
    config = os.path.join(work, "portvakt.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{PORT}"\ndatabase_url = "sqlite://{work}/bench.db"\ndev_mode = true\n'
                '[lockout]\nip_max_failures = 100000000\n')
    org = os.path.join(work, "org.toml")
    with open(org, "w") as f:
        f.write('[[organisation]]\nslug = "bench"\nname = "Benchkommun"\ndomains = ["bench.se"]\n'
                f'[[organisation.user]]\nusername = "{USER}"\nname = "Känd"\n'
                'initial_password = "en lång lösenfras för mätningen"\n'
                'totp_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"\n')
    subprocess.run([BIN, "apply", org, "--config", config], check=True, capture_output=True)
    server = subprocess.Popen(["taskset", "-c", "1", BIN, "serve", "--config", config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.sched_setaffinity(0, {0})
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        conn.request("GET", "/reset")
        r = conn.getresponse()
        page = r.read().decode()
        cookie = "; ".join(c.split(";")[0] for c in r.headers.get_all("Set-Cookie"))
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def ask(name):
            body = urllib.parse.urlencode({"csrf": token, "username": name})
            t0 = time.perf_counter()
            conn.request("POST", "/reset", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                  "Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            took = (time.perf_counter() - t0) * 1000
            assert resp.status == 303 and resp.getheader("Location") == "/reset/code", resp.status
            return took

        for i in range(50):  # warm-up
            ask(USER if i % 2 else f"varm{i}@bench.se")
        known, unknown = [], []
        for i in range(ROUNDS):
            # Alternate which goes first, so drift hits both alike.
            pair = [(known, USER), (unknown, f"okand{i}@bench.se")]
            for bucket, name in (pair if i % 2 else pair[::-1]):
                bucket.append(ask(name))
                time.sleep(0.005)  # let the work after the answer finish
        started = subprocess.run(
            ["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
             "\"SELECT COUNT(*) FROM signin_events WHERE reason = 'reset_code_sent'\").fetchone()[0])",
             os.path.join(work, "bench.db")], capture_output=True, text=True).stdout.strip()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)

    def p90(xs):
        return sorted(xs)[int(len(xs) * 0.9)]

    print(f"POST /reset, {ROUNDS} each, interleaved; resets really started for the known account: {started}")
    print(f"  known account:  median {statistics.median(known):.3f} ms, p90 {p90(known):.3f} ms")
    print(f"  unknown names:  median {statistics.median(unknown):.3f} ms, p90 {p90(unknown):.3f} ms")
    print(f"  ratio known/unknown: median {statistics.median(known) / statistics.median(unknown):.2f}, "
          f"p90 {p90(known) / p90(unknown):.2f}")


if __name__ == "__main__":
    main()
