"""A real HTTP receiver on loopback (http.server in a thread) that records webhook calls.

It checks each call's signature the way a receiver should (HMAC-SHA256 of the raw
body with the secret it was given) and can misbehave: answer a list of statuses in
turn, or hold a call for a while before answering (to kill a sender mid-call).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-CRM-Signature", ""))


@dataclass
class Behaviour:
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    delay: float = 0.0  # seconds to hold each call before answering
    answer: bytes = b'{"ok": true}'


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """An answer written to a sender that was killed meanwhile is expected: stay quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class WebhookReceiver:
    def __init__(self, port: int | None = None, *, tls: tuple[str, str] | None = None) -> None:
        """`port`: where to listen (a receiver that comes back where it was); default a free one.

        `tls`: (certificate, key) files: the receiver speaks HTTPS.
        """
        self.calls: list[Call] = []
        self.behaviour = Behaviour()
        self.lock = threading.Lock()
        self.in_call = threading.Event()  # set while a call is being held (delay)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = (
                        receiver.behaviour.statuses.pop(0) if receiver.behaviour.statuses else 200
                    )
                    delay = receiver.behaviour.delay
                if delay:
                    receiver.in_call.set()
                    time.sleep(delay)
                with receiver.lock:
                    receiver.calls.append(Call(self.path, dict(self.headers), body, status))
                answer = receiver.behaviour.answer if status < 300 else b"receiver trouble"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:  # quiet
                pass

        # Port 0: the system picks a free port as it binds (no race with another process).
        self.server = _Server(("127.0.0.1", port or 0), Handler)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hook"

    def received(self) -> list[Call]:
        """The calls answered 2xx."""
        with self.lock:
            return [call for call in self.calls if 200 <= call.status < 300]

    def deliveries(self) -> Counter:
        """How often each delivery (X-CRM-Delivery) was taken."""
        return Counter(call.headers["X-CRM-Delivery"] for call in self.received())
