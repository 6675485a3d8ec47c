"""A loopback SMTP server in its own process (so it does not share the sender's GIL).

Prints its port, then runs until stdin closes and prints what it received as JSON:
{"messages": n, "duplicates": {key: times}} — an outbox key arriving twice is a duplicate.
"""

from __future__ import annotations

import json
import re
import socket
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from subprocess import PIPE, Popen

ROOT = Path(__file__).resolve().parents[2]
KEY_HEADER = re.compile(rb"^X-CRM-Key:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


class CountingHandler:
    """Accepts everything and counts outbox keys; no MIME parsing (the sender is measured)."""

    def __init__(self) -> None:
        self.keys: Counter = Counter()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        match = KEY_HEADER.search(envelope.content)
        self.keys[match.group(1).decode() if match else ""] += 1
        return "250 2.0.0 accepted"


def serve() -> None:
    from aiosmtpd.controller import Controller

    handler = CountingHandler()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        print(port, flush=True)
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        controller.stop()
    duplicates = {key: n for key, n in handler.keys.items() if n > 1}
    print(
        json.dumps({"messages": sum(handler.keys.values()), "duplicates": duplicates}),
        flush=True,
    )


class Sink:
    """The parent's handle: .port while running, .result after stop()."""

    def __init__(self) -> None:
        self.process = Popen(
            [sys.executable, __file__], stdin=PIPE, stdout=PIPE, text=True, cwd=str(ROOT)
        )
        self.port = int(self.process.stdout.readline())
        self.result: dict = {}

    def config(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TIMEOUT": 10.0}

    def stop(self) -> dict:
        out, _ = self.process.communicate(timeout=60)
        self.result = json.loads(out.strip().splitlines()[-1])
        return self.result


@contextmanager
def smtp_sink():
    sink = Sink()
    try:
        yield sink
    finally:
        if sink.process.poll() is None:
            sink.stop()


if __name__ == "__main__":
    serve()
