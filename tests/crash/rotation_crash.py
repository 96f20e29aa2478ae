#!/usr/bin/env python3
"""Crisis rotation under kill -9 (issue 15, acceptance 1).

500 accounts in the group that is rotated, reached by a mix of channels: a
local digital-mailbox receiver, an SMS gateway stub, a real SMTP server
(aiosmtpd), their manager's or unit's printed list, the servicedesk. The
rotation is started with `portvakt crisis rotate`; the command is killed
with SIGKILL while it issues codes, and the server three times while it
issues and delivers. Afterwards:

- every person has exactly one start code (every channel that carried
  something for them carried the same code, and everyone got one);
- every old password and every session from before is dead;
- each start code signs in once, and a second time is refused;
- the report's delivered counts match what each receiver got.

Loopback only; bounded in time. Needs aiosmtpd (scripts/test installs it).
"""
import base64
import email
import http.client
import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_test  # noqa: E402  (the server runner and free_port)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PORTVAKT_BIN", os.path.join(ROOT, "target", "debug", "portvakt"))
PEOPLE = int(os.environ.get("ROTATION_PEOPLE", "500"))
PASSWORD = "det gamla lösenordet före intrånget"
ADMIN_PW = "säkerhetsteamet har nycklarna till huset"
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
DEADLINE = time.time() + 600


free_port = crash_test.free_port


def channel_of(i):
    """Which channel reaches person i: mailbox, sms, email, manager, desk."""
    return ["mailbox", "sms", "email", "manager", "desk"][i % 5]


def number_of(i):
    return f"4670{i:07d}"


def org_file(mailbox_port):
    lines = [
        "[[organisation]]", 'slug = "kriskommun"', 'name = "Kriskommun"', 'domains = ["kris.se"]', "",
        "[organisation.crisis]", 'channels = ["mailbox", "sms", "email", "manager", "servicedesk"]',
        f'mailbox_url = "http://127.0.0.1:{mailbox_port}/deliver"', "",
        # Loopback is the internal network: the start code alone signs in.
        "[[organisation.zone]]", 'slug = "lokalt"', 'name = "Lokalt"', 'cidrs = ["127.0.0.0/8"]', "",
        "[[organisation.group]]", 'slug = "personal"', 'name = "Personal"', "",
        "[[organisation.group]]", 'slug = "it"', 'name = "IT"', "",
        "[[organisation.user]]", 'username = "admin@kris.se"', 'name = "Säkerhetsansvarig"', 'groups = ["it"]',
        'roles = ["org_admin"]', f'initial_password = "{ADMIN_PW}"', "",
        "[[organisation.user]]", 'username = "chef@kris.se"', 'name = "Chefen"', 'groups = ["it"]', "",
    ]
    for i in range(PEOPLE):
        lines += ["[[organisation.user]]", f'username = "u{i}@kris.se"', f'name = "Person {i}"',
                  'groups = ["personal"]', f'initial_password = "{PASSWORD}"']
        if channel_of(i) == "manager":
            lines.append('manager = "chef@kris.se"' if i % 2 else f'unit = "Skola {i % 3}"')
        lines.append("")
    return "\n".join(lines)


class Receivers:
    """The mailbox adapter and the SMS gateway: what each got, by person."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mailbox = {}  # username -> set of codes
        self.sms = {}  # number -> set of codes
        self.email = {}  # address -> set of codes

    def add(self, box, key, text):
        codes = set(CODE.findall(text))
        with self.lock:
            box.setdefault(key, set()).update(codes)


class Backlogged(http.server.ThreadingHTTPServer):
    """Python's default listen backlog is 5: a server sending 20 messages at
    once would wait on dropped SYNs. Real gateways and adapters take more."""
    request_queue_size = 128
    daemon_threads = True


def http_receiver(rec):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            time.sleep(0.01)  # a real service takes a moment: kills land mid-delivery
            if self.path == "/deliver":
                user = body["recipient"]["username"]
                i = int(user[1:].split("@")[0]) if user.startswith("u") else -1
                if channel_of(i) != "mailbox":
                    self.send_response(404)  # no digital mailbox
                    self.end_headers()
                    return
                rec.add(rec.mailbox, user, body["body"])
            else:
                rec.add(rec.sms, body["to"], body["message"])
            self.send_response(202)
            self.end_headers()

    srv = Backlogged(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class SmtpHandler:
    def __init__(self, rec):
        self.rec = rec

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content)
        text = msg.get_payload(decode=True).decode("utf-8", "replace")
        for rcpt in envelope.rcpt_tos:
            self.rec.add(self.rec.email, rcpt, text)
        return "250 OK"


class Server(crash_test.Server):
    def __init__(self, config, port):
        super().__init__(config)
        self.wait_ready(port)


class Browser:
    """Cookies and CSRF over http.client, enough for the sign-in form."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, form=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["content-type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        text = r.read().decode()
        for h in r.headers.get_all("set-cookie") or []:
            name, _, rest = h.partition("=")
            value = rest.split(";")[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return r.status, r.getheader("location"), text

    def sign_in(self, user, password):
        _, _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return self.request("POST", "/login", {"csrf": token, "username": user, "password": password})


def settled(db):
    """Nobody waits for a code, and every automatic message got through."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        n = conn.execute(
            "SELECT COUNT(*) FROM rotation_people p LEFT JOIN outbox o ON o.id = p.outbox_id "
            "WHERE p.state = 'pending' OR (p.state = 'sending' AND o.sent_at IS NULL)").fetchone()[0]
        started = conn.execute("SELECT COUNT(*) FROM rotations").fetchone()[0]
        return started > 0 and n == 0
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def progress(db):
    """(people without a code, automatic messages not yet sent) right now."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(
            "SELECT SUM(CASE WHEN p.state = 'pending' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN p.state = 'sending' AND o.sent_at IS NULL THEN 1 ELSE 0 END) "
            "FROM rotation_people p LEFT JOIN outbox o ON o.id = p.outbox_id").fetchone()
    finally:
        conn.close()


def main():
    failures = []
    rec = Receivers()
    recv = http_receiver(rec)
    smtp = Controller(SmtpHandler(rec), hostname="127.0.0.1", port=free_port())
    smtp.start()
    with tempfile.TemporaryDirectory(prefix="portvakt-rotation-") as work:
        port = free_port()
        db = os.path.join(work, "portvakt.db")
        config = os.path.join(work, "portvakt.toml")
        with open(config, "w") as f:
            f.write(f'listen = "127.0.0.1:{port}"\ndatabase_url = "sqlite://{db}"\ndev_mode = true\n'
                    f'secret_key_file = "{work}/secret.key"\n'
                    "[password]\nmemory_kib = 1024\niterations = 1\nparallelism = 1\n"
                    "[lockout]\nip_max_failures = 1000000\n"
                    f'[sms]\ngateway_url = "http://127.0.0.1:{recv.server_port}/send"\n'
                    f'[email]\nsmtp_url = "smtp://127.0.0.1:{smtp.port}"\nfrom = "Kriskommun <it@kris.se>"\n'
                    "[outbox]\nclaim_secs = 30\n")
        with open(os.path.join(work, "secret.key"), "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        os.chmod(os.path.join(work, "secret.key"), 0o600)
        org = os.path.join(work, "org.toml")
        with open(org, "w") as f:
            f.write(org_file(recv.server_port))
        subprocess.run([BIN, "apply", org, "--config", config], check=True, stdout=subprocess.DEVNULL)

        # Numbers and addresses for codes, as people registered them.
        conn = sqlite3.connect(db)
        ids = {u: i for i, u in conn.execute("SELECT id, username FROM users")}
        org_id = conn.execute("SELECT id FROM organisations").fetchone()[0]
        for i in range(PEOPLE):
            kind = {"sms": "sms", "email": "email"}.get(channel_of(i))
            if kind:
                dest = number_of(i) if kind == "sms" else f"u{i}@privat.example"
                conn.execute("INSERT INTO factors (id, organisation_id, user_id, kind, label, confirmed, "
                             "created_at, destination) VALUES (?, ?, ?, ?, 'Privat', 1, 0, ?)",
                             (f"fac_crash{i}", org_id, ids[f"u{i}@kris.se"], kind, dest))
        conn.commit()
        conn.close()

        server = Server(config, port)
        before = {}
        for i in range(0, PEOPLE, 25):
            b = Browser(port)
            status, _, _ = b.sign_in(f"u{i}@kris.se", PASSWORD)
            assert status == 303, f"u{i} could not sign in before the rotation"
            before[i] = b

        # Start from the command line, and kill it while it issues codes
        # (when its progress bar shows some but not all).
        cli = subprocess.Popen([BIN, "crisis", "rotate", "--org", "kriskommun", "--group", "personal",
                                "--yes", "--config", config], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        seen = b""
        while True:
            ch = cli.stderr.read(1)
            if not ch:
                break
            seen += ch
            m = re.findall(rb"\] (\d+)/(\d+)", seen)
            if m and 0 < int(m[-1][0]) < int(m[-1][1]):
                break
        cli.send_signal(signal.SIGKILL)
        cli.wait()
        cli_moment = progress(db)
        kills, moments = 0, []
        # Right away (codes half issued, the dead command's lease still
        # held), then twice while messages are going out.
        for when in (lambda p: True,
                     lambda p: p[0] == 0 and 0 < p[1] < 250,
                     lambda p: p[0] == 0 and 0 < p[1] < 150):
            deadline = time.time() + 60
            while not when(progress(db)) and time.time() < deadline:
                time.sleep(0.05)
            server.kill9()
            kills += 1
            moments.append(progress(db))
            server = Server(config, port)
        while not settled(db):
            if time.time() > DEADLINE:
                failures.append("the rotation never settled")
                break
            time.sleep(0.5)

        # Codes by person, from every channel that carried one.
        codes = {i: set() for i in range(PEOPLE)}
        with rec.lock:
            for user, cs in rec.mailbox.items():
                codes[int(user[1:].split("@")[0])] |= cs
            by_number = {number_of(i): i for i in range(PEOPLE)}
            for number, cs in rec.sms.items():
                codes[by_number[number]] |= cs
            for address, cs in rec.email.items():
                codes[int(address[1:].split("@")[0])] |= cs
        admin = Browser(port)
        status, _, _ = admin.sign_in("admin@kris.se", ADMIN_PW)
        assert status == 303, "the IT admin is not in the rotated group"
        # The file's password is a first one: the admin chooses their own.
        _, _, page = admin.request("GET", "/password")
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        new_pw = ADMIN_PW + " och mer"
        status, _, _ = admin.request("POST", "/password", {"csrf": token, "current": ADMIN_PW, "new": new_pw,
                                                           "confirm": new_pw})
        assert status == 200, f"the admin's own password: {status}"
        conn = sqlite3.connect(db)
        rid = conn.execute("SELECT id FROM rotations").fetchone()[0]
        conn.close()
        pstatus, _, printed = admin.request("GET", f"/admin/crisis/{rid}/print")
        if os.environ.get("ROTATION_DEBUG"):
            print(pstatus, printed[:3000])
        for user, code in re.findall(r"<dd>(u\d+@kris\.se)</dd>\s*<dt>[^<]*</dt><dd><div class=\"code\">([^<]+)</div>",
                                     printed):
            codes[int(user[1:].split("@")[0])].add(code)
        for i in range(PEOPLE):
            if channel_of(i) == "desk":
                _, _, page = admin.request("GET", f"/admin/crisis/{rid}/desk?q=u{i}%40kris.se")
                m = re.search(rf">u{i}@kris\.se</td>\s*<td[^>]*><code>([^<]+)</code>", page)
                if m:
                    codes[i].add(m.group(1))

        wrong = {i: cs for i, cs in codes.items() if len(cs) != 1}
        if wrong:
            failures.append(f"{len(wrong)} people without exactly one code, e.g. {list(wrong.items())[:3]}")
        for i, b in before.items():
            status, _, _ = b.request("GET", "/")
            if status == 200:
                failures.append(f"u{i}'s session from before still works")
        for i in range(0, PEOPLE, 10):
            status, _, _ = Browser(port).sign_in(f"u{i}@kris.se", PASSWORD)
            if status != 401:
                failures.append(f"u{i}'s old password answered {status}")
        for i, cs in codes.items():
            if len(cs) != 1:
                continue
            code = next(iter(cs))
            status, location, _ = Browser(port).sign_in(f"u{i}@kris.se", code.lower())
            if status != 303 or location != "/password":
                failures.append(f"u{i}'s start code answered {status} {location}")
            status, _, _ = Browser(port).sign_in(f"u{i}@kris.se", code)
            if status != 403:
                failures.append(f"u{i}'s start code worked twice ({status})")

        report = subprocess.run([BIN, "crisis", "report", "--org", "kriskommun", "--config", config],
                                capture_output=True, text=True).stdout
        delivered = {name: int(n) for name, n in
                     re.findall(r"^\s+(digital mailbox|SMS|e-mail)\s+\d+ people,\s+(\d+) delivered", report, re.M)}
        got = {"digital mailbox": len(rec.mailbox), "SMS": len(rec.sms), "e-mail": len(rec.email)}
        if delivered != got:
            failures.append(f"report {delivered} but receivers got {got}:\n{report}")
        expected = {"digital mailbox": PEOPLE // 5, "SMS": PEOPLE // 5, "e-mail": PEOPLE // 5}
        if got != expected:
            failures.append(f"receivers got {got}, expected {expected}")
        server.proc.terminate()
        server.proc.wait()
        check = subprocess.run([BIN, "check-db", "--config", config], capture_output=True, text=True)
        if check.returncode != 0:
            failures.append(f"check-db: {check.stderr}")
    smtp.stop()
    recv.shutdown()
    print(f"rotation crash: {PEOPLE} people; the command killed at {cli_moment}, the server killed {kills} "
          f"times at (no code yet, messages unsent) = {moments}; "
          + ("OK" if not failures else "FAILED:\n  " + "\n  ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
