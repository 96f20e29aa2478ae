#!/usr/bin/env python3
"""Diagnostic client for bench/rotation_bench.py (LATLOG): 8 keep-alive
connections to /auth/verify, each waiting 0.5 ms between requests; writes
one line per request (wall-clock time in seconds, latency in ms).

Usage: verify_latency_log.py PORT COOKIE SECONDS OUT"""
# Logs (t, latency) of /auth/verify requests over N keep-alive connections for S seconds.
import asyncio, sys, time, os
PORT, COOKIE, SECS, OUT = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
REQ = (f"GET /auth/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Original-URL: https://app.bench.se/\r\n"
       f"X-Forwarded-For: 127.0.0.1\r\nCookie: {COOKIE}\r\n\r\n").encode()
out = []
async def conn(end):
    r, w = await asyncio.open_connection("127.0.0.1", PORT)
    while time.monotonic() < end:
        t, wall = time.monotonic(), time.time()
        w.write(REQ)
        head = await r.readuntil(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        if n: await r.readexactly(n)
        out.append((wall, time.monotonic() - t))
        await asyncio.sleep(0.0005)
async def main():
    end = time.monotonic() + SECS
    await asyncio.gather(*(conn(end) for _ in range(8)), return_exceptions=True)
try:
    asyncio.run(main())
except KeyboardInterrupt:  # the benchmark stops it when the rotation ends
    pass
with open(OUT, "w") as f:
    for t, l in out: f.write(f"{t:.6f} {l * 1000:.3f}\n")
