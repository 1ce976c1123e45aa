"""The reviewers list: search, filters kept in the query string, pagination, empty states."""

from __future__ import annotations

import datetime as dt

import pytest

from peermatch.models import Partnership


@pytest.fixture
def gamma(session, region_a) -> Partnership:
    partnership = Partnership(region_id=region_a.id, code="GAMMA", name="Gammaby Partnership")
    session.add(partnership)
    session.commit()
    return partnership


@pytest.fixture
def reviewers(add_reviewer, partnership_a, gamma):
    return {
        "priya": add_reviewer(
            partnership_a,
            "Priya Shah",
            agency="police",
            skills=["rca"],
            unavailable=[(dt.date(2026, 12, 1), dt.date(2026, 12, 14))],
        ),
        "tom": add_reviewer(gamma, "Tom Price", agency="health", skills=["peer-review"]),
        "ann": add_reviewer(partnership_a, "Ann Lowe", agency="health", active=False),
    }


def _names(client, query: str = "") -> list[str]:
    page = client.get(f"/reviewers{query}").text
    return [n for n in ("Priya Shah", "Tom Price", "Ann Lowe") if n in page]


def test_it_lists_every_reviewer_in_the_region(alice_client, reviewers):
    assert _names(alice_client) == ["Priya Shah", "Tom Price", "Ann Lowe"]
    assert "3 reviewers" in alice_client.get("/reviewers").text


def test_it_searches_by_name(alice_client, reviewers):
    assert _names(alice_client, "?q=pri") == ["Priya Shah", "Tom Price"]
    assert _names(alice_client, "?q=shah") == ["Priya Shah"]


def test_it_filters_by_partnership(alice_client, reviewers, gamma):
    assert _names(alice_client, f"?partnership={gamma.id}") == ["Tom Price"]


def test_it_filters_by_agency_and_skill(alice_client, reviewers):
    assert _names(alice_client, "?agency=health") == ["Tom Price", "Ann Lowe"]
    assert _names(alice_client, "?skill=rca") == ["Priya Shah"]


def test_it_filters_by_availability_on_a_date(alice_client, reviewers):
    assert _names(alice_client, "?available_on=2026-11-30") == ["Priya Shah", "Tom Price"]
    assert _names(alice_client, "?available_on=2026-12-07") == ["Tom Price"]


def test_it_explains_a_date_it_cannot_read_and_ignores_it(alice_client, reviewers):
    page = alice_client.get("/reviewers?available_on=someday").text
    assert "Enter a real date" in page
    assert "3 reviewers" in page


def test_it_keeps_the_filters_in_the_form_and_offers_to_clear_them(alice_client, reviewers):
    page = alice_client.get("/reviewers?q=shah&agency=police").text
    assert 'value="shah"' in page
    assert '<option value="police" selected>' in page
    assert "1 reviewer matches your filters" in page
    assert 'href="/reviewers">Clear filters' in page


def test_it_says_when_nothing_matches(alice_client, reviewers):
    page = alice_client.get("/reviewers?q=zzz").text
    assert "No reviewers match your filters" in page


def test_it_says_when_the_region_has_no_reviewers_yet(alice_client, partnership_a):
    page = alice_client.get("/reviewers").text
    assert "There are no reviewers in your region yet" in page


def test_it_pages_through_many_reviewers_keeping_the_filters(
    alice_client, add_reviewer, partnership_a
):
    for i in range(30):
        add_reviewer(partnership_a, f"Reviewer {i:02d}", skills=["rca"])
    first = alice_client.get("/reviewers?skill=rca").text
    assert "30 reviewers match your filters (page 1 of 2)" in first
    assert "Reviewer 00" in first and "Reviewer 29" not in first
    assert 'href="/reviewers?skill=rca&amp;page=2"' in first
    second = alice_client.get("/reviewers?skill=rca&page=2").text
    assert "Reviewer 29" in second and "Reviewer 00" not in second
    assert 'href="/reviewers?skill=rca&amp;page=1"' in second


def test_it_shows_the_first_page_for_a_nonsense_page_number(alice_client, reviewers):
    assert alice_client.get("/reviewers?page=abc").status_code == 200
    assert alice_client.get("/reviewers?page=-4").status_code == 200
