#!/usr/bin/env python3
"""Diagnostic for bench/rotation_bench.py (ALONG="python3 bench/vmstat_delta.py FILE"):
writes how much /proc/vmstat's page-cache and I/O counters moved between its
start and SIGINT (refaults of evicted file pages, major faults, kB read and
written)."""
import time, sys, signal
def r():
    return {l.split()[0]: int(l.split()[1]) for l in open('/proc/vmstat')}
a = r(); t = time.time()
try:
    while True: time.sleep(0.1)
except KeyboardInterrupt:
    b = r()
    keys = ['workingset_refault_file', 'pgmajfault', 'pgpgin', 'pgpgout', 'pgsteal_kswapd', 'pgsteal_direct', 'pgscan_kswapd']
    open(sys.argv[1], 'w').write(f"{time.time()-t:.1f} s: " + ", ".join(f"{k} +{b.get(k,0)-a.get(k,0)}" for k in keys) + "\n")
