"""Which receiver addresses a webhook may call: http(s) only, and no private network unless allowed.

A webhook makes the CRM's server send requests where an admin points it; pointed at
127.0.0.1 or 10.0.0.0/8 it would reach the server's own neighbours, which no outside
caller could (server-side request forgery). So addresses that are not globally
routable are refused unless the deployment allows them (CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
for an intranet whose own systems receive the calls). The form checks what the URL
says (an IP literal, localhost); the sender checks again what the name resolves to
when it calls, and connects to exactly that address (crm/webhook_http.py).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from flask_babel import lazy_gettext as _l

URL_LENGTH = 2000
SCHEMES = ("http", "https")
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def parse(url: str) -> SplitResult | None:
    """The URL's parts if it is an absolute http(s) URL with a host and a valid port."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return None
    return parts


def is_private(address: str) -> bool:
    """Not globally routable: loopback, private, link-local, shared, reserved, multicast."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (%eth0) says nothing
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def literal_address(host: str) -> str | None:
    """The host as an IP address when it is one (brackets of IPv6 already removed)."""
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return None


def names_this_computer(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in LOCAL_NAMES or host.endswith(".localhost")


def url_problem(url: str, *, allow_private: bool) -> object | None:
    """Why this receiver URL cannot be subscribed (a message), or None."""
    if len(url) > URL_LENGTH:
        return _l("The address is too long (at most %(num)d characters).", num=URL_LENGTH)
    parts = parse(url)
    if parts is None:
        return _l("Enter a full address that starts with http:// or https://.")
    if parts.username or parts.password:
        return _l("Put no user name or password in the address; the secret signs each call.")
    if allow_private:
        return None
    literal = literal_address(parts.hostname or "")
    if names_this_computer(parts.hostname or "") or (literal and is_private(literal)):
        return _l(
            "This address is on a private network or this server itself. Receivers inside "
            "the network are allowed only when the deployment sets "
            "CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1."
        )
    return None
