"""Every GET route of the app, present and future, tried as an attacker would: hostile path
parameters (huge and negative numbers, markup, NUL) and hostile query parameters, signed in and
signed out. Nothing may answer 500 and nothing may come back unescaped.

Routes are read from the app itself, so a page another engineer adds later is covered without
touching this file."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)//",
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "-1",
    "1e309",
    "\x00",
    "a\x00b",
    "\x1b[2J",
    "%00",
    "../../../../etc/passwd",
    "{{7*7}}",
    "𝕏" * 50,
    "x" * 2000,
]
# Markers that only appear if markup went out unescaped.
RAW_MARKUP = re.compile(r"<script>alert|<img src=x onerror|<svg onload|\"><img|'><svg", re.I)
# Query names every page might read; plus each handler's own declared query parameters.
COMMON_KEYS = [
    "q",
    "page",
    "next",
    "imported",
    "saved",
    "partnership",
    "agency",
    "skill",
    "available_on",
    "id",
    "status",
    "sort",
    "format",
    "region",
    "request",
    "run",
]
INTS = ["99999999999999999999", "9223372036854775808", "2147483648", "0", "-1", "1"]
_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


def _get_routes(app: Litestar) -> list[HTTPRoute]:
    return [r for r in app.routes if isinstance(r, HTTPRoute) and "GET" in r.methods]


def _query_keys(route: HTTPRoute) -> list[str]:
    keys = set(COMMON_KEYS)
    for handler in route.route_handlers:
        for name in handler.parsed_fn_signature.parameters:
            keys.add(name)
    return sorted(keys)


def _paths(route: HTTPRoute, real_id: int) -> Iterator[str]:
    params = _PARAM.findall(route.path)
    if not params:
        yield route.path
        return
    values: list[str]
    for _, kind in params:
        values = [*INTS, str(real_id)] if kind == "int" else HOSTILE
        for value in values:
            yield _PARAM.sub(lambda m, v=value: quote(v, safe=""), route.path)


def _check(response, where: str) -> None:
    where = where if len(where) < 160 else where[:150] + "…"
    assert response.status_code < 500, f"{where}: {response.status_code}"
    body = response.text
    assert not RAW_MARKUP.search(body), f"{where}: unescaped markup in the body"
    location = response.headers.get("location", "")
    assert not location.startswith(("//", "http", "javascript")), f"{where}: {location}"


def _walk(client, app: Litestar, real_id: int) -> int:
    requests = 0
    for route in _get_routes(app):
        keys = _query_keys(route)
        for path in _paths(route, real_id):
            for number, payload in enumerate(HOSTILE):
                query = "&".join(f"{quote(k)}={quote(payload, safe='')}" for k in keys)
                # Every other request as htmx sends it: pages may answer with a fragment.
                headers = {"HX-Request": "true"} if number % 2 else {}
                response = client.get(f"{path}?{query}", headers=headers, follow_redirects=False)
                _check(response, f"GET {path}?…={payload!r} {headers}")
                requests += 1
            response = client.get(path, follow_redirects=False)
            _check(response, f"GET {path}")
    return requests


@pytest.fixture
def real_reviewer(add_reviewer, partnership_a):
    return add_reviewer(partnership_a, "Priya Shah")


def test_the_walk_sees_the_apps_pages(app):
    paths = {r.path for r in _get_routes(app)}
    assert {"/reviewers", "/reviewers/{reviewer_id:int}", "/sign-in", "/schema"} <= paths


def test_no_get_route_fails_or_reflects_markup_signed_out(client, app, real_reviewer):
    assert _walk(client, app, real_reviewer.id) > 100


def test_no_get_route_fails_or_reflects_markup_signed_in(alice_client, app, real_reviewer):
    assert _walk(alice_client, app, real_reviewer.id) > 100
    # Still signed in: nothing above ended the session or broke the app.
    assert alice_client.get("/reviewers").status_code == 200


# Form fields any page might read; every POST route receives all of them, hostile.
FORM_KEYS = [
    *COMMON_KEYS,
    "name",
    "email",
    "password",
    "partnership_id",
    "agency",
    "job_role",
    "skills",
    "capacity",
    "active",
    "accredited_on",
    "unavailable-0-from",
    "unavailable-0-to",
    "unavailable-150-from",
    "conflict_partnership_ids",
    "content",
    "reference",
    "methodology",
    "peers",
    "window_start",
    "window_end",
    "reason",
]


def test_no_post_route_fails_or_reflects_markup_signed_in(
    alice_client, app, real_reviewer, csrf_token
):
    token = csrf_token(alice_client, "/reviewers/new")
    posts = [r for r in app.routes if isinstance(r, HTTPRoute) and "POST" in r.methods]
    assert posts
    for route in posts:
        if route.path == "/sign-out":
            continue  # would end the session the walk runs in
        for path in _paths(route, real_reviewer.id):
            for payload in HOSTILE:
                form = {key: payload for key in FORM_KEYS} | {"_csrf_token": token}
                response = alice_client.post(path, data=form, follow_redirects=False)
                _check(response, f"POST {path} …={payload!r}")


# --- hostile bodies ---------------------------------------------------------------------------

WRITE_METHODS = ("POST", "PUT", "PATCH")
DEEP = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000


def _body_shapes(csrf: str) -> list[tuple[str, bytes, str]]:
    """(what, body, content type): every shape a route must refuse cleanly, never with 500."""
    token = f"_csrf_token={csrf}".encode()
    many_fields = b"&".join(b"f%d=" % i for i in range(1_600_000))  # 9.9 MB, 1.6 M fields
    form = "application/x-www-form-urlencoded"
    return [
        ("deep JSON arrays", DEEP, "application/json"),
        ("deep JSON objects", DEEP_OBJECT, "application/json"),
        ("deep JSON as a form", DEEP, "application/x-www-form-urlencoded"),
        ("1.6 million fields", token + b"&" + many_fields, "application/x-www-form-urlencoded"),
        ("one huge field", token + b"&name=" + b"x" * 9_900_000, form),
        ("a field a little over the form limit", token + b"&name=" + b"x" * 40_000,
         "application/x-www-form-urlencoded"),
        ("JSON as text/plain", b'{"name": "x"}', "text/plain"),
        ("JSON as XML", b"<x/>", "application/xml"),
        ("no content type", b'{"name": "x"}', ""),
        ("a form to a JSON route", token + b"&name=x", "application/x-www-form-urlencoded"),
        ("invalid UTF-8 JSON", b'{"name": "\xff\xfe"}', "application/json"),
        ("invalid UTF-8 form", token + b"&name=%ff%fe\xff", "application/x-www-form-urlencoded"),
        ("duplicate JSON keys", b'{"name": "a", "name": "b", "email": "a@example.org"}',
         "application/json"),
        ("duplicate form keys", token + b"&name=a&name=b&_csrf_token=x",
         "application/x-www-form-urlencoded"),
        ("JSON charset latin-1", b'{"name": "x"}', "application/json; charset=latin-1"),
        ("multipart without a boundary", b"--x\r\n", "multipart/form-data"),
        ("broken multipart", b"--x\r\nContent-Disposition: form-data\r\n\r\n" + b"y" * 1000,
         "multipart/form-data; boundary=x"),
    ]  # fmt: skip


def _write_routes(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in WRITE_METHODS:
            if method in route.methods:
                found.append((method, route.path))
    return found


def test_no_write_route_fails_on_a_hostile_body(
    alice_client, app, real_reviewer, csrf_token, session, partnership_a
):
    from peermatch import accounts

    _, key = accounts.create_api_key(
        session, partnership_id=partnership_a.id, name="walk", actor="test"
    )
    session.commit()
    token = csrf_token(alice_client, "/reviewers/new")
    routes = _write_routes(app)
    assert ("PATCH", "/api/v1/reviewers/{reviewer_id:int}") in routes
    assert ("POST", "/sign-in") in routes
    for what, body, content_type in _body_shapes(token):
        for method, template in routes:
            if template == "/sign-out":
                continue
            path = _PARAM.sub(str(real_reviewer.id), template)
            headers = {"Content-Type": content_type} if content_type else {}
            api = path.startswith("/api/")
            if api:
                headers["Authorization"] = f"Bearer {key}"
            started = time.monotonic()
            response = alice_client.request(
                method, path, content=body, headers=headers, follow_redirects=False
            )
            where = f"{method} {path} with {what}"
            assert time.monotonic() - started < 5, f"{where}: too slow"
            _check(response, where)
            if api:
                assert response.headers["content-type"].startswith("application/problem+json"), (
                    where
                )
                assert 400 <= response.status_code < 500, where
            if len(body) > 1_000_000:  # refused unread (or the address names nothing)
                assert response.status_code in {404, 413}, where
    # Nothing above ended the session or broke the app.
    assert alice_client.get("/reviewers").status_code == 200
