#!/usr/bin/env python3
"""A real SMTP server on loopback for tests (aiosmtpd). Each message is
written to DIR/<n>.eml as received, and DIR/<n>.txt decoded (recipients,
subject, plain-text body) for easy reading. Prints the port on stdout once
it listens.

Usage: smtp_sink.py DIR
"""
import email
import email.policy
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        with open(os.path.join(self.folder, f"{self.n}.eml"), "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = f"X-Rcpt-To: {','.join(envelope.rcpt_tos)}\nSubject: {msg['subject']}\n\n{msg.get_content()}"
        tmp = os.path.join(self.folder, f".{self.n}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.folder, f"{self.n}.txt"))
        return "250 OK"


def main():
    folder = sys.argv[1]
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        while sys.stdin.read(1):
            pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
