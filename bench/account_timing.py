#!/usr/bin/env python3
"""Can the time of a sign-in or a reset tell what kind of account a name is?

Three kinds of name (issue 10 M4, SECURITY.md A1):
  known   an account with an Argon2id hash (set by `apply`),
  bcrypt  an account imported with a bcrypt hash (cost 12, as exported by
          many older systems),
  unknown a name with no account.

For each kind: POST /login with a wrong password, and POST /reset, ROUNDS
times, interleaved in rotating order over one keep-alive connection on
127.0.0.1 (server pinned to core 1, this client on core 0). Each account is
used at most twice per flow, so no failure delay ever changes the work.

Reported: median and p90 per kind and flow, and the median ratio of each
pair (1.00 means no difference; the acceptance band is 0.90-1.10).

Usage: python3 bench/account_timing.py [--debug]
  --debug uses target/debug/portvakt (crypto crates are optimised there too)
  instead of building the release binary.
"""
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = 18498
ROUNDS = int(os.environ.get("ROUNDS", "60"))
PASSWORD = "en lång lösenfras för mätningen"


def bcrypt_hash():
    try:
        import bcrypt
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "bcrypt"], check=True)
        import bcrypt
    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()


def main():
    debug = "--debug" in sys.argv
    profile = "debug" if debug else "release"
    build = ["cargo", "build", "--locked", "--bin", "portvakt"] + ([] if debug else ["--release"])
    subprocess.run(build, cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", profile, "portvakt")
    work = tempfile.mkdtemp(prefix="portvakt-account-bench-")
    config = os.path.join(work, "portvakt.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{PORT}"\ndatabase_url = "sqlite://{work}/bench.db"\ndev_mode = true\n'
                '[lockout]\nip_max_failures = 100000000\n')
    hashed = bcrypt_hash()
    org = os.path.join(work, "org.toml")
    with open(org, "w") as f:
        f.write('[[organisation]]\nslug = "bench"\nname = "Benchkommun"\ndomains = ["bench.se"]\n')
        for i in range(ROUNDS):
            f.write(f'[[organisation.user]]\nusername = "kand{i}@bench.se"\nname = "Känd {i}"\n'
                    f'initial_password = "{PASSWORD}"\n'
                    'totp_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"\n')
            f.write(f'[[organisation.user]]\nusername = "bcrypt{i}@bench.se"\nname = "Importerad {i}"\n'
                    f'password_hash = "{hashed}"\n'
                    'totp_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"\n')
    subprocess.run([binary, "apply", org, "--config", config], check=True, capture_output=True)
    server = subprocess.Popen(["taskset", "-c", "1", binary, "serve", "--config", config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.sched_setaffinity(0, {0})
    results = {}
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        conn.request("GET", "/login")
        r = conn.getresponse()
        page = r.read().decode()
        cookie = "; ".join(c.split(";")[0] for c in r.headers.get_all("Set-Cookie"))
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def post(path, fields, expect):
            body = urllib.parse.urlencode({"csrf": token, **fields})
            t0 = time.perf_counter()
            conn.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                              "Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            took = (time.perf_counter() - t0) * 1000
            assert resp.status == expect, (path, resp.status)
            return took

        names = {
            "known": lambda i: f"kand{i}@bench.se",
            "bcrypt": lambda i: f"bcrypt{i}@bench.se",
            "unknown": lambda i: f"okand{i}@bench.se",
        }
        flows = {
            "sign-in": lambda n: post("/login", {"username": n, "password": "fel lösenord"}, 401),
            "reset": lambda n: post("/reset", {"username": n}, 303),
        }
        for flow, run in flows.items():
            for i in range(6):  # warm-up, on throwaway names
                run(f"varm{flow}{i}@bench.se")
            buckets = {k: [] for k in names}
            kinds = list(names)
            for i in range(ROUNDS):
                order = kinds[i % 3:] + kinds[:i % 3]
                for kind in order:
                    buckets[kind].append(run(names[kind](i)))
                    time.sleep(0.005)
            results[flow] = buckets
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)

    def p90(xs):
        return sorted(xs)[int(len(xs) * 0.9)]

    print(f"{profile} build, {ROUNDS} rounds per kind, interleaved")
    worst = 0.0
    for flow, buckets in results.items():
        for kind, xs in buckets.items():
            print(f"  {flow:8} {kind:8} median {statistics.median(xs):8.2f} ms   p90 {p90(xs):8.2f} ms")
        med = {k: statistics.median(v) for k, v in buckets.items()}
        for a, b in (("known", "unknown"), ("bcrypt", "unknown"), ("bcrypt", "known")):
            ratio = med[a] / med[b]
            worst = max(worst, abs(ratio - 1))
            print(f"  {flow:8} {a}/{b}: median ratio {ratio:.2f}")
    print(f"largest deviation from 1.00: {worst:.2f} ({'within' if worst <= 0.10 else 'OUTSIDE'} 0.90-1.10)")


if __name__ == "__main__":
    main()
