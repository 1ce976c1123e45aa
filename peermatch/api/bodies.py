"""What an API request body must be before anything decodes it.

Every POST, PUT and PATCH under /api/v1 passes :func:`check_body` (a router guard, after the
key check and before Litestar decodes ``data``):

- no larger than its operation allows (``request_max_body_size``, sized to the schema): 413;
- a body sent as ``application/json`` (charset, if given, UTF-8), as the schema documents: 415;
- UTF-8 text: 400;
- nested no deeper than :data:`MAX_DEPTH` (PeerMatch's schemas need 3), counted on the raw
  text before any recursive decoder sees it: 400 (a thousand levels used to exhaust the
  decoder's recursion and answer 500);
- JSON with no key twice in one object (decoders disagree on which one wins): 400.

Each refusal is an RFC 9457 problem; nothing has been read into the database.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from peermatch.api.problems import ApiProblem, FieldError

MAX_DEPTH = 8
JSON = "application/json"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Request body limits per operation, from the largest body each schema allows (a reviewer with
# 100 unavailable periods and every text at its longest, escaped, is about 8 KB), with room.
REVIEWER_BODY = 32 * 1024
REQUEST_BODY = 8 * 1024
EMPTY_BODY = 1024  # operations that take no body (cancel): a stray "{}" at most


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


def nesting_depth(text: str, limit: int) -> int:
    """How deeply arrays and objects nest in ``text`` (strings skipped), counting no further
    than ``limit + 1``."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def check_json(body: bytes, content_type: str, options: dict[str, str]) -> None:
    """Raise the problem a body has, if any (see the module's docstring)."""
    charset = options.get("charset", "utf-8").strip().lower()
    if content_type != JSON or charset not in {"utf-8", "utf8"}:
        raise ApiProblem(415, "Send the body as application/json (UTF-8)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiProblem(400, "The body is not valid UTF-8") from None
    if nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise ApiProblem(400, f"The body nests arrays and objects more than {MAX_DEPTH} deep")
    try:
        json.loads(text, object_pairs_hook=_no_repeats)
    except _Duplicate as exc:
        raise ApiProblem(
            400,
            "The body names a field twice in one object",
            [FieldError(pointer="", message=f"{exc.key!r} appears more than once")],
        ) from None
    except (ValueError, RecursionError):
        raise ApiProblem(400, "The body is not valid JSON") from None


async def check_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Router guard: the body of every write, checked before anything decodes it."""
    if not isinstance(connection, Request) or connection.method not in WRITE_METHODS:
        return
    body = await connection.body()  # 413 past the operation's request_max_body_size
    if not body:
        return  # no body: the operation says whether it needs one
    content_type, options = connection.content_type
    check_json(body, content_type, options)
