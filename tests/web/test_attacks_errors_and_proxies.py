"""Error pages and client addresses, tried as an attacker would: huge numbers, wrong methods,
a crash, forged X-Forwarded-For."""

from __future__ import annotations

import ipaddress

import pytest
from litestar import get
from litestar.params import FromQuery
from test_security_headers import assert_hardened

from peermatch.addresses import client_address
from peermatch.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    "path",
    [
        "/reviewers/99999999999999999999",
        "/reviewers/9223372036854775808",
        "/reviewers/2147483648",
        "/reviewers/0",
        "/reviewers/-1",
        "/reviewers/99999999999999999999/edit",
        "/reviewers?page=99999999999999999999",
        "/reviewers?partnership=99999999999999999999",
        "/reviewers?page=-99999999999999999999&partnership=-1",
        "/reviewers/import?imported=99999999999999999999",
    ],
)
def test_huge_numbers_answer_404_or_the_page_never_500(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code in (200, 400, 404), path
    assert_hardened(response)


def test_a_huge_id_in_a_form_post_is_404(alice_client, post_form):
    response = post_form(
        alice_client, "/reviewers/99999999999999999999/edit", {"name": "x"}, page="/reviewers"
    )
    assert response.status_code == 404


def test_a_signed_in_coordinator_sees_the_signed_in_header_on_a_404(alice_client):
    response = alice_client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Sign out" in response.text  # the signed-in navigation
    assert_hardened(response)


def test_a_signed_out_visitor_sees_no_signed_in_header_on_a_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Sign out" not in response.text


def test_a_wrong_method_says_so(alice_client):
    response = alice_client.put("/reviewers")
    assert response.status_code == 405
    assert "you cannot do that here" in response.text
    assert "Sign out" in response.text
    assert_hardened(response)


def test_a_crash_answers_a_hardened_500_that_leaks_nothing(app, client):
    @get("/__boom", sync_to_thread=False)
    def boom() -> str:
        raise RuntimeError("secret detail: alice@example.org")

    app.register(boom)
    response = client.get("/__boom")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert_hardened(response)


def _scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 5000), "headers": headers}


PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


def test_forwarded_for_is_ignored_without_trusted_proxies():
    assert client_address(_scope("203.0.113.9", "1.2.3.4"), ()) == "203.0.113.9"


def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy():
    assert client_address(_scope("203.0.113.9", "1.2.3.4"), PROXIES) == "203.0.113.9"


def test_the_client_is_the_first_untrusted_hop_from_the_right():
    # The attacker sends "1.2.3.4"; the proxy appends the address it saw.
    scope = _scope("10.0.0.5", "1.2.3.4, 198.51.100.20, 10.1.1.1")
    assert client_address(scope, PROXIES) == "198.51.100.20"


def test_a_malformed_hop_stops_the_walk():
    assert client_address(_scope("10.0.0.5", "1.2.3.4, <script>"), PROXIES) == "10.0.0.5"


def test_ipv6_proxies_are_understood():
    assert client_address(_scope("2001:db8::1", "2001:db8::2, 192.0.2.1"), PROXIES) == "192.0.2.1"


def test_the_setting_reads_cidrs_and_refuses_junk():
    settings = load_settings({"PEERMATCH_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7 2001:db8::/32"})
    assert [str(n) for n in settings.trusted_proxies] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "2001:db8::/32",
    ]
    assert load_settings({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="PEERMATCH_TRUSTED_PROXIES"):
        load_settings({"PEERMATCH_TRUSTED_PROXIES": "10.0.0.0/33"})


def test_a_typed_query_number_beyond_64_bits_never_reaches_a_handler(app, client):
    seen: list[int] = []

    @get("/__probe", sync_to_thread=False)
    def probe(limit: FromQuery[int] = 10) -> dict[str, int]:
        seen.append(limit)
        return {"limit": limit}

    app.register(probe)
    for huge in ("99999999999999999999", "-9223372036854775809", "+0009223372036854775808"):
        response = client.get(f"/__probe?limit={huge}")
        assert response.status_code == 400, huge
        assert_hardened(response)
    assert client.get("/__probe?limit=9223372036854775807").status_code == 200
    assert seen == [9223372036854775807]


def test_an_overflow_deep_down_answers_400_not_500(app, client):
    @get("/__overflow", sync_to_thread=False)
    def overflow() -> str:
        import datetime as dt

        return str(dt.date.max + dt.timedelta(days=1))

    app.register(overflow)
    response = client.get("/__overflow")
    assert response.status_code == 400
    assert_hardened(response)
