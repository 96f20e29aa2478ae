#!/usr/bin/env python3
"""Crash test (SECURITY.md G1): kill -9 the server and an `apply` in the
middle of a burst of sign-ins and applies, restart, and check that the
database passes its integrity check and holds every acknowledged change.

Acknowledged means: a sign-in answered 303 with a session cookie, or an
`apply` process that exited 0. Standard library only; loopback only.
"""
import http.client
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PORTVAKT_BIN", os.path.join(ROOT, "target", "debug", "portvakt"))
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "5"))
PASSWORD = "ett tillfälligt lösenord för krasch"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def org_file(n_users):
    lines = [
        "[[organisation]]", 'slug = "kraschkommun"', 'name = "Kraschkommun"', 'domains = ["krasch.se"]', "",
        # Loopback is the internal network here, so the password alone signs in.
        "[[organisation.zone]]", 'slug = "lokalt"', 'name = "Lokalt"', 'cidrs = ["127.0.0.0/8"]', "",
        "[[organisation.group]]", 'slug = "personal"', 'name = "Personal"', "",
        "[[organisation.service]]", 'slug = "lon"', 'name = "Lön"', 'url = "https://lon.krasch.se/"', 'groups = ["personal"]', "",
    ]
    for i in range(n_users):
        lines += ["[[organisation.user]]", f'username = "u{i}@krasch.se"', f'name = "Användare {i}"',
                  'groups = ["personal"]', f'initial_password = "{PASSWORD}"', ""]
    return "\n".join(lines)


class Server:
    def __init__(self, config):
        self.config = config
        self.proc = subprocess.Popen([BIN, "serve", "--config", config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def wait_ready(self, port):
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def sign_in(port, username):
    """Returns the session token if the server acknowledged the sign-in."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/login")
    r = c.getresponse()
    body = r.read().decode()
    cookie = re.search(r"portvakt-csrf=([^;]+)", r.getheader("set-cookie") or "").group(1)
    token = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"csrf": token, "username": username, "password": PASSWORD})
    c.request("POST", "/login", body=form, headers={
        "content-type": "application/x-www-form-urlencoded", "cookie": f"portvakt-csrf={cookie}"})
    r = c.getresponse()
    r.read()
    if r.status != 303:
        return None
    for h in r.headers.get_all("set-cookie") or []:
        m = re.match(r"portvakt=([^;]+)", h)
        if m and m.group(1):
            return m.group(1)
    return None


def session_alive(port, token):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/password", headers={"cookie": f"portvakt={token}"})
    r = c.getresponse()
    r.read()
    return r.status == 200


def one_round(rnd, work):
    port = free_port()
    db = os.path.join(work, "portvakt.db")
    config = os.path.join(work, "portvakt.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:{port}"\ndatabase_url = "sqlite://{db}"\ndev_mode = true\n'
                "[password]\nmemory_kib = 1024\niterations = 1\nparallelism = 1\n"
                "[lockout]\nip_max_failures = 1000000\n")
    users_file = os.path.join(work, "users.toml")
    base_users = 4 + rnd
    with open(users_file, "w") as f:
        f.write(org_file(base_users))
    subprocess.run([BIN, "apply", users_file, "--config", config], check=True, stdout=subprocess.DEVNULL)

    server = Server(config)
    server.wait_ready(port)
    acked_sessions, acked_users = [], base_users
    stop = threading.Event()
    apply_proc = {"p": None}

    def signer():
        while not stop.is_set():
            try:
                t = sign_in(port, f"u{random.randrange(base_users)}@krasch.se")
                if t:
                    acked_sessions.append(t)
            except (OSError, AttributeError, http.client.HTTPException):
                return

    def applier():
        nonlocal acked_users
        n = base_users
        while not stop.is_set():
            n += 1
            path = os.path.join(work, f"apply-{n}.toml")
            with open(path, "w") as f:
                f.write(org_file(n))
            p = subprocess.Popen([BIN, "apply", path, "--config", config], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            apply_proc["p"] = p
            if p.wait() == 0:
                acked_users = n
            else:
                return

    threads = [threading.Thread(target=signer) for _ in range(4)] + [threading.Thread(target=applier)]
    for t in threads:
        t.start()
    time.sleep(1.0 + random.random())
    # Kill the server and whatever apply is in flight, mid-burst.
    server.kill9()
    p = apply_proc["p"]
    if p and p.poll() is None:
        p.send_signal(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=30)

    conn = sqlite3.connect(db)
    integrity = conn.execute("PRAGMA integrity_check").fetchall()
    usernames = {r[0] for r in conn.execute("SELECT username FROM users")}
    conn.close()
    failures = []
    if integrity != [("ok",)]:
        failures.append(f"integrity_check: {integrity}")
    missing_users = [i for i in range(acked_users) if f"u{i}@krasch.se" not in usernames]
    if missing_users:
        failures.append(f"acknowledged users missing: {missing_users[:5]}")

    server = Server(config)
    server.wait_ready(port)
    dead = [t for t in acked_sessions if not session_alive(port, t)]
    server.proc.terminate()
    server.proc.wait()
    if not acked_sessions:
        failures.append("no sign-in was acknowledged: the round proves nothing about sessions")
    if dead:
        failures.append(f"{len(dead)} of {len(acked_sessions)} acknowledged sessions lost")
    check = subprocess.run([BIN, "check-db", "--config", config], capture_output=True, text=True)
    if check.returncode != 0:
        failures.append(f"check-db: {check.stderr}")
    print(f"round {rnd}: {len(acked_sessions)} sign-ins and {acked_users - base_users} applies acknowledged "
          f"before kill -9; {'OK' if not failures else 'FAILED: ' + '; '.join(failures)}")
    return failures


def main():
    passed = failed = 0
    for rnd in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="portvakt-crash-") as work:
            if one_round(rnd, work):
                failed += 1
            else:
                passed += 1
    print(f"crash: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
