#!/usr/bin/env python3
"""Diagnostic for bench/rotation_bench.py: why the server's answers wait.

Record the rotation with
  ALONG="perf record -e sched:sched_switch -e sched:sched_waking -g -a -o FILE" \\
    MODES=paced ROUNDS=1 python3 bench/rotation_bench.py --no-build
then run `python3 bench/wake_delays.py FILE`. For every wake-up of the
server's tokio worker that waited over 1 ms before it ran (from 1.2 s after
the recording began, i.e. during the command), it names the task that had
the core when the server finally got it and where that task was (its kernel
stack at the switch), and sums the waits per cause."""
import re
import subprocess
import sys
from collections import defaultdict, Counter
text = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "comm,tid,pid,cpu,time,event,trace,ip,sym"],
                      capture_output=True, text=True).stdout
events=[]
cur=None
for line in text.splitlines(keepends=True):
    if not line.strip():
        if cur: events.append(cur); cur=None
        continue
    if not line.startswith('\t') and not line.startswith(' '*8):
        m=re.match(r'(.+?) (\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s*(.*)',line)
        if m:
            comm,pid,tid,cpu,t,ev,tr=m.groups(); cur=dict(comm=comm,pid=pid,tid=tid,cpu=int(cpu),t=float(t),ev=ev,tr=tr,stack=[])
    else:
        if cur is not None:
            p=line.split()
            if len(p)>=2: cur['stack'].append(p[1])
if cur: events.append(cur)
# server pid: the process of portvakt-backgr
spid=next(e['pid'] for e in events if e['comm'].startswith('portvakt-backg'))
stids={e['tid'] for e in events if e['pid']==spid and e['comm'].startswith('tokio-rt')}
print('server',spid,stids)
t0=events[0]['t']
waking={}
res=[]
for e in events:
    if e['ev']=='sched_waking':
        m=re.search(r'pid=(\d+)',e['tr'])
        if m and m.group(1) in stids: waking.setdefault(m.group(1),e['t'])
    elif e['ev']=='sched_switch':
        m=re.search(r'prev_comm=(.+?) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=(.+?) next_pid=(\d+)',e['tr'])
        nxt=m.group(6)
        if nxt in waking:
            w=waking.pop(nxt); d=(e['t']-w)*1000
            if d>1 and e['t']-t0>1.2:
                st=[f for f in e['stack'] if f not in ('__schedule','schedule','__traceiter_sched_switch')]
                res.append((d,m.group(1),m.group(4),st[:6]))
print(len(res),'delays > 1 ms; task switched out when the server got the cpu:')
c=Counter((r[1],r[2]) for r in res); print(c.most_common(8))
sc=Counter(' < '.join(r[3][:4]) for r in res); 
for k,v in sc.most_common(12): print(v,k)
tot=defaultdict(float); n=defaultdict(int)
def cat(r):
    d,comm,st,stack=r
    s=' '.join(stack[:3])
    if 'futex' in s: return 'command thread went to sleep (futex): the server lost to the command\'s own hand-offs until then'
    if 'apic_timer' in s: return 'command preempted at the tick (ran on in user space)'
    if 'exit_to_user_mode_loop' in s: return 'command preempted at the end of a system call'
    if '__cond_resched' in s: return 'command preempted at a cond_resched inside read/write'
    if 'worker_thread' in s: return 'kblockd (kworker/1:1H) I/O work'
    return 'other: '+comm+' '+st
for r in res: tot[cat(r)]+=r[0]; n[cat(r)]+=1
for k in sorted(tot,key=lambda k:-tot[k]): print(f"{n[k]:3d} delays, {tot[k]:6.1f} ms: {k}")
