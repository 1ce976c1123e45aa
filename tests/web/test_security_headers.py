"""Every response carries the same security headers and a strict CSP with a fresh nonce:
pages, error pages (403, 404, 405, 413, 500), static files, the API reference and its JSON."""

from __future__ import annotations

import re

import pytest

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
_NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{16,})'")


def assert_hardened(response) -> str:
    """The response's headers are the strict set; returns its CSP nonce."""
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'"
    script_src = directives["script-src"].split()
    assert script_src[0] == "'self'" and len(script_src) == 2
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "http" not in csp and "*" not in csp  # no other origin anywhere
    match = _NONCE.search(directives["script-src"])
    assert match
    return match.group(1)


def test_a_page_uses_its_own_nonce_for_the_one_inline_script(client):
    first, second = client.get("/sign-in"), client.get("/sign-in")
    nonce = assert_hardened(first)
    assert nonce != assert_hardened(second)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", first.text)
    assert inline == [f' nonce="{nonce}"']


@pytest.mark.parametrize(
    "path",
    [
        "/sign-in",
        "/no-such-page",
        "/static/peermatch.css",
        "/static/no-such-file.js",
        "/schema",
        "/schema/openapi.json",
        "/healthz",
        "/reviewers",  # the redirect to sign-in
    ],
)
def test_every_kind_of_response_is_hardened(client, path):
    assert_hardened(client.get(path, follow_redirects=False))


def test_a_wrong_method_is_hardened_and_worded(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert_hardened(response)


def test_a_form_without_its_token_is_hardened(client):
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 403
    assert_hardened(response)
    assert "This form has expired" in response.text


def test_an_upload_over_the_limit_is_hardened_and_says_so(alice_client, csrf_token):
    token = csrf_token(alice_client, "/reviewers/import")
    huge = b"x" * (11 * 1024 * 1024)  # over the request body limit, not only the CSV limit
    response = alice_client.post(
        "/reviewers/import",
        files={"file": ("big.csv", huge, "text/csv")},
        data={"_csrf_token": token},
    )
    assert response.status_code == 413
    assert_hardened(response)
    assert "too large" in response.text
    assert "problem with the service" not in response.text


def test_the_api_reference_loads_nothing_from_another_origin(client):
    response = client.get("/schema")
    assert response.status_code == 200
    assert_hardened(response)
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "<script>" not in response.text  # no inline script, not even with a nonce
    assert client.get("/schema/openapi.json").json()["info"]["title"] == "PeerMatch partnership API"
