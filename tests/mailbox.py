"""A real SMTP server for the tests (aiosmtpd on a free local port) that keeps what arrives."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.box.lock:
            self.box.raw.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


class Mailbox:
    """Start with ``start()``; ``messages`` are parsed with the modern e-mail policy."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.raw: list[tuple[list[str], bytes]] = []
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> Mailbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            raw = list(self.raw)
        return [email.message_from_bytes(b, policy=email.policy.default) for _, b in raw]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.raw) < count:
            time.sleep(0.05)
        return self.messages


def text_of(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()
