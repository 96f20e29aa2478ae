#!/usr/bin/env python3
"""Sign-in throughput and memory benchmark (issue 2, acceptance 6).

Method (shared/BENCHMARKING.md): loopback only; the server pinned to core 1,
wrk to core 0; 3 s warm-up, 10 s runs, 3 repetitions, median reported.

1. Argon2 bound: the time of one hash at the configured parameters,
   measured in this run by `portvakt hash-bench` pinned to the same core.
   With one core for the server the bound is 1 / t_hash sign-ins per second.
2. Sign-in throughput with wrk; only 303 answers (signed in) count.
3. Idle RSS of `serve`, then RSS with 100k users and 100k sessions.

Usage: python3 bench/signin_bench.py   (builds the release binary first)
"""
import os
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.request
import hashlib
import secrets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "portvakt")
USER = "bench.user@bench.se"
PASSWORD = "ett långt lösenord för mätningar"


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def start(config, port):
    p = subprocess.Popen(["taskset", "-c", "1", BIN, "serve", "--config", config],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            return p
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def org_file(users, hash_for_all=None):
    out = ['[[organisation]]', 'slug = "bench"', 'name = "Benchkommun"', 'domains = ["bench.se"]',
           '[[organisation.zone]]', 'slug = "lokalt"', 'name = "Lokalt"', 'cidrs = ["127.0.0.0/8"]',
           '[[organisation.group]]', 'slug = "staff"', 'name = "Staff"',
           '[[organisation.service]]', 'slug = "lon"', 'name = "Lön"', 'url = "https://lon.bench.se/"', 'groups = ["staff"]']
    out += ['[[organisation.user]]', f'username = "{USER}"', 'name = "Bench"', 'groups = ["staff"]',
            f'initial_password = "{PASSWORD}"']
    for i in range(users):
        out += ['[[organisation.user]]', f'username = "u{i}@bench.se"', f'name = "User {i}"',
                'groups = ["staff"]', f'password_hash = "{hash_for_all}"']
    return "\n".join(out) + "\n"


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "portvakt"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="portvakt-bench-")
    port = 18480
    db = os.path.join(work, "bench.db")
    config = os.path.join(work, "portvakt.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{port}"\ndatabase_url = "sqlite://{db}"\ndev_mode = true\n'
                '[lockout]\nip_max_failures = 100000000\n')
    org = os.path.join(work, "org.toml")
    with open(org, "w") as f:
        f.write(org_file(0))
    sh(BIN, "apply", org, "--config", config)
    # Many people signing in at once, not one account eight times in
    # parallel: every try is counted against its account before the hash
    # (issue 10), so one account's parallel tries beyond five in flight
    # are refused, as a parallel attack on one account should be.
    conn = sqlite3.connect(db)
    (shared_hash,) = conn.execute("SELECT password_hash FROM users LIMIT 1").fetchone()
    conn.close()
    with open(org, "w") as f:
        f.write(org_file(31, shared_hash))
    sh(BIN, "apply", org, "--config", config)
    users = [USER] + [f"u{i}@bench.se" for i in range(31)]

    def hash_time():
        return float(sh("taskset", "-c", "1", BIN, "hash-bench", "--config", config, "--rounds", "10").stdout)

    server = start(config, port)
    time.sleep(2)
    idle_rss = rss_kib(server.pid)
    env = dict(os.environ, BENCH_USERS=",".join(u.replace("@", "%40") for u in users),
               BENCH_PASSWORD=PASSWORD.replace(" ", "+").replace("å", "%C3%A5").replace("ö", "%C3%B6").replace("ä", "%C3%A4"))
    url = f"http://127.0.0.1:{port}/login"
    wrk = ["taskset", "-c", "0", "wrk", "-t1", "-c8", "--latency", "-s", os.path.join(ROOT, "bench", "signin.lua")]
    subprocess.run(wrk + ["-d3s", url], env=env, capture_output=True)  # warm-up
    # Baseline and load alternate (A/B/A/B), so drift hits both alike.
    rates, cpu_per, hashes = [], [], []
    for _ in range(3):
        hashes.append(hash_time())
        c0 = cpu_ticks(server.pid)
        out = subprocess.run(wrk + ["-d10s", url], env=env, capture_output=True, text=True, check=True).stdout
        c1 = cpu_ticks(server.pid)
        ok = int(re.search(r"SIGNED_IN (\d+)", out).group(1))
        other = int(re.search(r"OTHER (\d+)", out).group(1))
        assert other == 0, f"{other} sign-ins did not succeed:\n{out}"
        rates.append(ok / 10.0)
        cpu_per.append((c1 - c0) / os.sysconf("SC_CLK_TCK") / max(ok, 1) * 1000)
    loaded_rss = rss_kib(server.pid)
    server.terminate()
    server.wait()

    # 100k users (one shared hash, so applying does not hash 100k times) and 100k sessions.
    conn = sqlite3.connect(db)
    (some_hash,) = conn.execute("SELECT password_hash FROM users LIMIT 1").fetchone()
    conn.close()
    with open(org, "w") as f:
        f.write(org_file(100_000, some_hash))
    t0 = time.time()
    sh(BIN, "apply", org, "--config", config)
    apply_s = time.time() - t0
    conn = sqlite3.connect(db)
    oid, uid = conn.execute("SELECT organisation_id, id FROM users LIMIT 1").fetchone()
    user_ids = [r[0] for r in conn.execute("SELECT id FROM users")]
    now = int(time.time())
    rows = [(hashlib.sha256(secrets.token_bytes(32)).hexdigest(), oid, user_ids[i % len(user_ids)], now, now,
             now + 43200, "127.0.0.1", "bench", "pwd") for i in range(100_000)]
    conn.executemany("INSERT INTO sessions (token_hash, organisation_id, user_id, created_at, last_seen_at, "
                     "expires_at, revoked_at, ip, user_agent, amr) VALUES (?,?,?,?,?,?,NULL,?,?,?)", rows)
    conn.commit()
    conn.close()
    server = start(config, port)
    time.sleep(2)
    big_idle_rss = rss_kib(server.pid)
    subprocess.run(wrk + ["-d3s", url], env=env, capture_output=True)
    big_loaded_rss = rss_kib(server.pid)
    server.terminate()
    server.wait()

    rate = statistics.median(rates)
    t_hash = statistics.median(hashes)
    bound = 1.0 / t_hash
    print(f"argon2 one hash (median of 3 alternating runs: {', '.join(f'{h * 1000:.1f}' for h in hashes)} ms): "
          f"{t_hash * 1000:.1f} ms -> bound {bound:.1f} sign-ins/s on 1 core")
    print(f"sign-ins/s (median of 3): {rate:.1f}  runs: {', '.join(f'{r:.1f}' for r in rates)}")
    print(f"ratio to bound: {rate / bound:.2f}  (target >= 0.9)")
    print(f"server CPU per sign-in: {statistics.median(cpu_per):.1f} ms")
    print(f"RSS idle: {idle_rss / 1024:.1f} MiB (target <= 30); after sign-in load: {loaded_rss / 1024:.1f} MiB")
    print(f"apply of 100k users: {apply_s:.1f} s")
    print(f"RSS with 100k users + 100k sessions: idle {big_idle_rss / 1024:.1f} MiB, "
          f"after sign-in load {big_loaded_rss / 1024:.1f} MiB (target <= 150)")


if __name__ == "__main__":
    main()
