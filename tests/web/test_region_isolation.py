"""A coordinator sees only their own region: another region's reviewer is simply not found."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from peermatch.models import Reviewer


@pytest.fixture
def alices_reviewer(add_reviewer, partnership_a):
    return add_reviewer(partnership_a, "Priya Shah")


def test_it_hides_another_regions_reviewer_page(bob_client, alices_reviewer):
    response = bob_client.get(f"/reviewers/{alices_reviewer.id}")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Priya" not in response.text


def test_it_hides_another_regions_reviewer_edit_form(bob_client, alices_reviewer):
    assert bob_client.get(f"/reviewers/{alices_reviewer.id}/edit").status_code == 404


def test_it_refuses_to_change_another_regions_reviewer(
    bob_client, alices_reviewer, partnership_b, session, post_form
):
    response = post_form(
        bob_client,
        f"/reviewers/{alices_reviewer.id}/edit",
        {
            "name": "Taken Over",
            "email": "taken@example.org",
            "partnership_id": str(partnership_b.id),
            "agency": "police",
            "capacity": "1",
            "active": "yes",
        },
        page="/reviewers/new",
    )
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Reviewer, alices_reviewer.id).name == "Priya Shah"


def test_it_lists_only_the_coordinators_own_region(
    bob_client, alices_reviewer, add_reviewer, partnership_b
):
    add_reviewer(partnership_b, "Bashir Okafor")
    page = bob_client.get("/reviewers").text
    assert "Bashir Okafor" in page
    assert "Priya Shah" not in page
    assert "Alphaton" not in bob_client.get("/partnerships").text


def test_it_exports_only_the_coordinators_own_region(
    bob_client, alices_reviewer, add_reviewer, partnership_b, session
):
    add_reviewer(partnership_b, "Bashir Okafor")
    response = bob_client.get("/reviewers/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["name"], r["email"], r["partnership"]) for r in rows] == [
        ("Bashir Okafor", "bashir.okafor@example.org", "BETA")
    ]
    assert len(session.exec(select(Reviewer)).all()) == 2  # Priya exists, just not for Bob
