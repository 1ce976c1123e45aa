"""Probing another region through the uniqueness of emails, tried as an attacker would.

Emails stay unique across the service (one person, one capacity, one inbox for invitations),
so a refusal cannot be avoided; what it must not do is say where, or differ from the refusal
for a reviewer of the coordinator's own region."""

from __future__ import annotations

import html
import re

from peermatch import registry

ANSWER = re.compile(r'govuk-error-message">\s*<span[^>]*>Error:</span>\s*([^<]+)<')


def _add(client, post_form, partnership, email: str):
    return post_form(
        client,
        "/reviewers/new",
        {
            "name": "Probe Person",
            "email": email,
            "partnership_id": str(partnership.id),
            "agency": "police",
            "capacity": "1",
            "active": "yes",
        },
    )


def test_adding_another_regions_email_answers_as_for_ones_own(
    bob_client, add_reviewer, partnership_a, partnership_b, post_form
):
    add_reviewer(partnership_a, "Priya Shah", email="priya.shah@example.org")
    add_reviewer(partnership_b, "Bashir Okafor", email="bashir@example.org")
    theirs = _add(bob_client, post_form, partnership_b, "priya.shah@example.org")
    ours = _add(bob_client, post_form, partnership_b, "bashir@example.org")
    assert theirs.status_code == ours.status_code == 400
    answers = [[html.unescape(m.strip()) for m in ANSWER.findall(r.text)] for r in (theirs, ours)]
    assert answers[0] == answers[1] == [registry.DUPLICATE_EMAIL]
    for secret in ("Priya", "Alphaton", "Region A", "north-a", "ALPHA", "another region"):
        assert secret not in theirs.text


def test_importing_another_regions_email_answers_as_for_ones_own(
    bob_client, add_reviewer, partnership_a, partnership_b, post_form
):
    add_reviewer(partnership_a, "Priya Shah", email="priya.shah@example.org")
    add_reviewer(partnership_b, "Bashir Okafor", email="bashir@example.org")
    header = "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,conflicts\n"  # noqa: E501
    content = header + (
        "Probe One,priya.shah@example.org,BETA,police,,,1,yes,,,\n"
        "Probe Two,bashir@example.org,BETA,police,,,1,yes,,,\n"
    )
    response = post_form(
        bob_client,
        "/reviewers/import",
        {},
        files={"file": ("r.csv", content.encode(), "text/csv")},
    )
    assert response.status_code == 400
    problems = re.findall(r'<td class="govuk-table__cell">([^<]*)</td>\s*</tr>', response.text)
    assert [html.unescape(p) for p in problems] == [registry.DUPLICATE_EMAIL] * 2
    assert "Priya" not in response.text and "Alphaton" not in response.text
