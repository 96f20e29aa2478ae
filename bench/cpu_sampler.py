#!/usr/bin/env python3
"""Diagnostic for bench/rotation_bench.py (ALONG="python3 bench/cpu_sampler.py FILE"):
samples /proc/stat every 0.5 s until interrupted (SIGINT) and writes, per
core, the share of user, system, idle, irq, softirq and steal time."""
import time, signal, sys
def read():
    d={}
    for l in open('/proc/stat'):
        if l.startswith('cpu') and l[3]!=' ':
            p=l.split(); d[p[0]]=list(map(int,p[1:9]))
    return d
rows=[]
prev=read(); t0=time.time()
try:
    while True:
        time.sleep(0.5); cur=read()
        line=[f"{time.time()-t0:5.1f}"]
        for c in ('cpu0','cpu1'):
            dd=[a-b for a,b in zip(cur[c],prev[c])]; tot=sum(dd) or 1
            # user nice system idle iowait irq softirq steal
            line.append(f"{c}: usr {100*(dd[0]+dd[1])//tot:3d} sys {100*dd[2]//tot:3d} idle {100*(dd[3]+dd[4])//tot:3d} irq {100*dd[5]//tot:3d} sirq {100*dd[6]//tot:3d} steal {100*dd[7]//tot:3d}")
        rows.append("  ".join(line)); prev=cur
except KeyboardInterrupt:
    pass
open(sys.argv[1],'w').write("\n".join(rows)+"\n")
