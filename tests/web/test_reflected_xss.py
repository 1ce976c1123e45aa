"""Reflected XSS, tried as an attacker would: a crafted link to a page that echoes its query."""

from __future__ import annotations

import pytest

PAYLOADS = [
    "<script>fetch('/reviewers/export.csv')</script>",
    '1 reviewers imported. <img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "3<script>alert(1)</script>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_import_page_never_echoes_its_query(alice_client, payload):
    response = alice_client.get("/reviewers/import", params={"imported": payload})
    assert response.status_code == 200
    assert "<script>fetch" not in response.text
    assert "onerror" not in response.text and "onload" not in response.text
    assert "imported." not in response.text  # not a count, so no banner at all


def test_the_import_page_still_reports_a_count(alice_client):
    response = alice_client.get("/reviewers/import?imported=3")
    assert "3 reviewers imported." in response.text
    assert "1 reviewer imported." in alice_client.get("/reviewers/import?imported=1").text
