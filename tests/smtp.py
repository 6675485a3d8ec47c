"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and can misbehave."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Faults:
    """How the server misbehaves; decided per message, deterministically by counter."""

    temporary_every: int = 0  # every n-th DATA gets "451 try again later"
    drop_every: int = 0  # every n-th DATA: the connection is cut without a reply
    refuse_rcpt: set[str] = field(default_factory=set)  # "550 no such user"
    delay: float = 0.0  # seconds to wait before accepting each message


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.faults = Faults()
        self.lock = threading.Lock()
        self.data_count = 0
        self.in_data = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.faults.refuse_rcpt:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.data_count += 1
            n = self.data_count
        if self.faults.temporary_every and n % self.faults.temporary_every == 0:
            return "451 4.3.0 try again later"
        if self.faults.drop_every and n % self.faults.drop_every == 0:
            server.transport.close()
            return "421 closing"
        if self.faults.delay:
            self.in_data.set()
            time.sleep(self.faults.delay)  # blocks the server's loop: like a slow server
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 2.0.0 accepted"


class SMTPServer:
    def __init__(self, port: int | None = None) -> None:
        """`port`: where to listen (a server that comes back where it was); default a free one."""
        self.handler = RecordingHandler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Message]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def faults(self) -> Faults:
        return self.handler.faults

    def keys(self, prefix: str = "") -> Counter:
        """How often each outbox key (starting with `prefix`) arrived."""
        return Counter(m["X-CRM-Key"] for m in self.messages if m["X-CRM-Key"].startswith(prefix))

    def of_kind(self, prefix: str) -> list[Message]:
        """The messages whose outbox key starts with `prefix` ("reminder:", "daily:")."""
        return [m for m in self.messages if m["X-CRM-Key"].startswith(prefix)]

    def config(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TIMEOUT": 5.0}
