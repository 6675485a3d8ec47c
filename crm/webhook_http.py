"""One webhook call over HTTP(S): a POST to the address that was checked, with short timeouts.

Built on http.client (no dependency): redirects are not followed (a 3xx is the
receiver saying the URL is wrong, and following it would also let a public address
send the call into the private network); the host name is resolved once, checked
(crm/services/webhooks/addresses.py) and connected to exactly, so a name that
resolves to a public address when checked cannot resolve to a private one when
connected (DNS rebinding); TLS still verifies the certificate for the host name.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass

from crm.services.webhooks.addresses import is_private, literal_address, parse

# The answer's body is read this far (robots answer {"errcode": 0, ...}); the rest is dropped.
READ_LIMIT = 64 * 1024
# Worth trying again: the receiver is busy, restarting or timed out.
TRANSIENT_STATUSES = frozenset({408, 425, 429})
# A group robot's own "too many messages" (WeCom 45009, DingTalk 130101) or "busy" (-1).
ROBOT_BUSY = frozenset({-1, 45009, 130101})


class CallFailed(Exception):
    """The call did not succeed; `transient`: worth trying again later."""

    def __init__(self, reason: str, *, status: int | None = None, transient: bool = True):
        super().__init__(reason)
        self.reason, self.status, self.transient = reason, status, transient


@dataclass(frozen=True)
class Caller:
    timeout: float
    allow_private: bool

    def post(self, url: str, body: bytes, headers: dict[str, str], *, robot: bool) -> int:
        """POST `body`; returns the receiver's 2xx status or raises CallFailed."""
        parts = parse(url)
        if parts is None:
            raise CallFailed("not an http(s) address", transient=False)
        https = parts.scheme.lower() == "https"
        port = parts.port or (443 if https else 80)
        addresses = self._addresses(parts.hostname or "", port)
        if https:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, port, timeout=self.timeout)
        # Connect to a checked address; Host, SNI and the certificate keep the name.
        connection._create_connection = lambda _where, timeout, source=None: (  # type: ignore[attr-defined]
            _connect(addresses, port, timeout, source)
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read(READ_LIMIT)
        except (OSError, http.client.HTTPException) as error:
            raise CallFailed(f"{type(error).__name__}: {error}") from error
        finally:
            connection.close()
        _judge(response.status, answer, response.getheader("Location"), robot=robot)
        return response.status

    def _addresses(self, host: str, port: int) -> list[str]:
        """The addresses to try: the literal, or all the name resolves to, each one checked."""
        literal = literal_address(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as error:  # no such name (yet): DNS may answer later
                raise CallFailed(f"cannot resolve {host}: {error}") from error
            found = [info[4][0] for info in infos]
        if not self.allow_private:
            private = [address for address in found if is_private(address)]
            if private:
                raise CallFailed(
                    f"refused: {host} is {private[0]}, an address inside a private network "
                    "(CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)",
                    transient=False,
                )
        return list(dict.fromkeys(found))


def _connect(addresses: list[str], port: int, timeout: float, source) -> socket.socket:
    """The first of the addresses that accepts a connection (as socket.create_connection)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout, source)
        except OSError as refused:
            error = refused
    raise error or OSError("no address to connect to")


def _judge(status: int, answer: bytes, location: str | None, *, robot: bool) -> None:
    """Raise CallFailed unless the answer says the call was taken."""
    said = " ".join(answer[:300].decode("utf-8", errors="replace").split())
    if 300 <= status < 400:
        raise CallFailed(
            f"HTTP {status}: the receiver moved to {location or '?'}; subscribe that address",
            status=status,
            transient=False,
        )
    if not 200 <= status < 300:
        transient = status >= 500 or status in TRANSIENT_STATUSES
        raise CallFailed(f"HTTP {status}: {said}".rstrip(": "), status=status, transient=transient)
    if robot:
        _judge_robot(status, answer)


def _judge_robot(status: int, answer: bytes) -> None:
    """Group robots answer 200 with {"errcode": n}: anything but 0 is a refusal."""
    try:
        reply = json.loads(answer)
    except ValueError:
        return
    code = reply.get("errcode", 0) if isinstance(reply, dict) else 0
    if code:
        message = str(reply.get("errmsg", ""))[:200]
        raise CallFailed(
            f"robot errcode {code}: {message}", status=status, transient=code in ROBOT_BUSY
        )


def caller_from_config(config) -> Caller:
    return Caller(
        timeout=float(config["WEBHOOK_TIMEOUT"]),
        allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]),
    )
