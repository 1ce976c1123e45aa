"""Who sent a request: the one place that decides which forwarded headers to believe, used by
the sign-in throttle and by the API's key-failure throttle alike (PEERMATCH_TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar.types import Scope

__all__ = ["client_address"]


def client_address(scope: Scope | Any, trusted_proxies: Sequence[Any]) -> str:
    """The address of the client that sent this request.

    The direct peer, unless it is one of ``trusted_proxies`` (PEERMATCH_TRUSTED_PROXIES): then
    X-Forwarded-For is read from the right, skipping trusted proxies, and the first address
    that is not one is the client. A forged X-Forwarded-For from anyone else changes nothing.
    """
    scope = getattr(scope, "scope", scope)
    peer = scope.get("client")
    if not peer:
        return "unknown"
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return str(peer[0])[:60]

    def trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(ip.version == net.version and ip in net for net in trusted_proxies)

    if not trusted(address):
        return str(address)
    forwarded = ",".join(
        value.decode("latin-1")
        for key, value in scope.get("headers", [])
        if key == b"x-forwarded-for"
    )
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        try:
            hop_address = ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed hop: trust nothing to its left
        if not trusted(hop_address):
            return str(hop_address)
        address = hop_address
    return str(address)
