#!/usr/bin/env python3
"""Status page benchmark (issue 5, acceptance 3, first part).

An organisation with 50 components and 1,000 incidents spread over 90 days
(each with 3 updates and 2 affected components; the ones from the last two
weeks are on the page). Measures, on 127.0.0.1 with the release binary
pinned to core 1 and wrk to core 0:
  - the page: mean and p99 latency of GET /status/bench at one connection
    (wrk -t1 -c1, 3 s warm-up, 10 s), and of the JSON;
  - the static copy: wall time of `portvakt status export` (a new process,
    database opened, everything written), median of 5.
With 500 health probes (10 per component, 20 of them down) and their 90
days of history: the per-component daily figures the probes write
(50 x 90 rows; failures on random days), drawn as the uptime bars.
Targets: <= 10 ms to render the page, <= 1 s for a full export. The probes
do not run here (`run_probes = false`): bench/probes_bench.py measures
what running them costs.

Usage: python3 bench/status_bench.py   (builds the release binary first)
"""
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "portvakt")
PORT = 18495


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "portvakt"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="portvakt-status-bench-")
    db = os.path.join(work, "bench.db")
    config = os.path.join(work, "portvakt.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{PORT}"\ndatabase_url = "sqlite://{db}"\ndev_mode = true\n'
                'default_organisation = "bench"\n[status]\nrun_probes = false\n')
    org = ['[[organisation]]', 'slug = "bench"', 'name = "Benchkommun"']
    for i in range(50):
        org += ['[[organisation.status_component]]', f'slug = "c{i}"', f'name = "Tjänst {i}"',
                f'group = "Grupp {i // 10}"', f'alternatives = "Ring 0123-45 67 {i:02d} eller besök receptionen."']
    for i in range(500):
        org += ['[[organisation.probe]]', f'slug = "p{i}"', f'component = "c{i // 10}"',
                f'http = "http://127.0.0.1:9/health/{i}"']
    with open(os.path.join(work, "org.toml"), "w") as f:
        f.write("\n".join(org) + "\n")
    subprocess.run([BIN, "apply", os.path.join(work, "org.toml"), "--config", config], check=True, capture_output=True)

    conn = sqlite3.connect(db)
    (oid,) = conn.execute("SELECT id FROM organisations WHERE slug = 'bench'").fetchone()
    now = int(time.time())
    rnd = random.Random(1)
    incidents, comps, updates = [], [], []
    for n in range(1000):
        start = now - rnd.randint(0, 90 * 86400)
        open_ = n < 3
        iid = f"inc_{n:06d}"
        incidents.append((iid, oid, f"Störning {n} i tjänst {n % 50}", f"Disruption {n}", 0,
                          "investigating" if open_ else "resolved", start, None if open_ else start + 3600))
        for c in rnd.sample(range(50), 2):
            comps.append((iid, oid, f"c{c}", "partial_outage"))
        for k, phase in enumerate(["investigating", "identified", "resolved" if not open_ else "monitoring"]):
            updates.append((f"upd_{n:06d}_{k}", iid, oid, start + k * 1200, phase,
                            "Vi arbetar med felet. " * 8, "We are working on it. " * 8))
    conn.executemany("INSERT INTO incidents (id, organisation_id, title, title_en, maintenance, phase, created_at, "
                     "resolved_at) VALUES (?,?,?,?,?,?,?,?)", incidents)
    conn.executemany("INSERT INTO incident_components (incident_id, organisation_id, component, impact) "
                     "VALUES (?,?,?,?)", comps)
    conn.executemany("INSERT INTO incident_updates (id, incident_id, organisation_id, at, phase, body, body_en) "
                     "VALUES (?,?,?,?,?,?,?)", updates)
    # 90 days of probe history, aggregated per component and day as the
    # runner writes it: 10 probes x 2,880 checks a day, a few bad days.
    import datetime
    from zoneinfo import ZoneInfo
    today = datetime.datetime.now(ZoneInfo("Europe/Stockholm")).date()
    days = []
    for c in range(50):
        for back in range(90):
            day = (today - datetime.timedelta(days=back)).isoformat()
            failures = rnd.choice([0] * 20 + [3, 40, 900, 6000])
            days.append((oid, f"c{c}", day, 28800, failures))
    conn.executemany("INSERT INTO probe_days (organisation_id, component, day, checks, failures) "
                     "VALUES (?,?,?,?,?)", days)
    conn.executemany("INSERT INTO probe_states (organisation_id, probe, component, down, since, checked_at, "
                     "last_error, impact) VALUES (?,?,?,?,?,?,?,?)",
                     [(oid, f"p{i}", f"c{i // 10}", int(i % 25 == 0), now - 600, now - 5,
                       "connection refused" if i % 25 == 0 else "", "major_outage") for i in range(500)])
    conn.commit()
    shown = conn.execute("SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL OR resolved_at >= ?",
                         (now - 14 * 86400,)).fetchone()[0]
    conn.close()

    server = subprocess.Popen(["taskset", "-c", "1", BIN, "serve", "--config", config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/status/bench", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        assert b"Benchkommun" in page and b"Tj\xc3\xa4nst 49" in page, "the page really renders"
        assert page.count(b"class=\"day-") > 50 * 5, "the uptime bars are drawn"

        def wrk(path):
            args = ["taskset", "-c", "0", "wrk", "-t1", "-c1", "--latency", f"http://127.0.0.1:{PORT}{path}"]
            subprocess.run(args + ["-d3s"], capture_output=True, check=True)
            out = subprocess.run(args + ["-d10s"], capture_output=True, text=True, check=True).stdout
            assert "Non-2xx" not in out, out
            unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
            avg = re.search(r"Latency\s+([\d.]+)(us|ms|s)", out)
            p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
            return float(avg.group(1)) * unit[avg.group(2)], float(p99.group(1)) * unit[p99.group(2)]

        page_avg, page_p99 = wrk("/status/bench")
        json_avg, json_p99 = wrk("/status/bench.json")
    finally:
        server.terminate()
        server.wait()

    times = []
    out = os.path.join(work, "copy")
    for _ in range(5):
        t0 = time.time()
        subprocess.run(["taskset", "-c", "1", BIN, "status", "export", "--config", config, "--org", "bench",
                        "--out", out], check=True, capture_output=True)
        times.append(time.time() - t0)
    files = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs]
    size = sum(os.path.getsize(f) for f in files)
    if os.environ.get("BENCH_KEEP"):
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"50 components, 1000 incidents over 90 days ({shown} open or resolved in the last 14 days: all in the "
          "JSON, the open ones and the 20 newest resolved on the page),")
    print(f"500 probes (20 down) with 90 days of figures ({len(days)} rows), page {len(page) / 1024:.0f} KiB")
    print(f"page  GET /status/bench:      mean {page_avg:.2f} ms, p99 {page_p99:.2f} ms  (target <= 10 ms)")
    print(f"json  GET /status/bench.json: mean {json_avg:.2f} ms, p99 {json_p99:.2f} ms")
    print(f"static export (new process, {len(files)} files, {size / 1024:.0f} KiB): median {statistics.median(times) * 1000:.0f} ms"
          f"  runs {', '.join(f'{t * 1000:.0f}' for t in times)}  (target <= 1 s)")


if __name__ == "__main__":
    main()
