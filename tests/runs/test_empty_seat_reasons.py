"""The plain-English reasons for an empty seat, one test per reason code of the solver's
``unfilled`` explanation, and the balance chart's geometry."""

from __future__ import annotations

from peermatch.web.pages.proposal import BalanceRow, balance_chart, empty_seat_reasons

NONE_INELIGIBLE = {
    "high_profile_internal": 0,
    "involved_agency": 0,
    "conflict": 0,
    "unavailable": 0,
    "excluded": 0,
    "no_capacity": 0,
}
LABELS = {"rca": "root cause analysis", "lead-reviewer": "lead reviewer"}


def reasons(high_profile: bool = False, **unfilled):
    data = {
        "eligible": 0,
        "ineligible": {**NONE_INELIGIBLE, **unfilled.pop("ineligible", {})},
        "missing_skills": [],
        "taken_elsewhere": 0,
        **unfilled,
    }
    return empty_seat_reasons(
        data, partnership="Dunmere", high_profile=high_profile, skill_label=LABELS.get
    )


def test_the_issue_example_reads_as_written():
    assert reasons(
        high_profile=True,
        eligible=4,
        taken_elsewhere=4,
        missing_skills=["rca"],
        ineligible={"unavailable": 6},
    ) == [
        "No one outside Dunmere holds root cause analysis",
        "4 eligible reviewers are all placed on other requests in this proposal",
        "6 are away during the review window",
    ]


def test_missing_skills_are_named_with_their_labels():
    assert reasons(missing_skills=["rca", "lead-reviewer"]) == [
        "No eligible reviewer holds root cause analysis or lead reviewer"
    ]


def test_one_reviewer_taken_elsewhere_is_singular():
    assert reasons(eligible=1, taken_elsewhere=1) == [
        "1 eligible reviewer is placed on other requests in this proposal"
    ]


def test_free_eligible_reviewers_are_from_agencies_already_on_the_team():
    assert reasons(eligible=3, taken_elsewhere=1) == [
        "1 eligible reviewer is placed on other requests in this proposal",
        "2 other eligible reviewers are free but from an agency already on the team "
        "(a team has one member per agency)",
    ]


def test_unavailable():
    assert reasons(ineligible={"unavailable": 1}) == ["1 is away during the review window"]


def test_no_capacity():
    assert reasons(ineligible={"no_capacity": 3}) == ["3 have no capacity left for another review"]


def test_high_profile_internal():
    assert reasons(ineligible={"high_profile_internal": 5}) == [
        "5 are from Dunmere itself, and this is a high-profile review"
    ]


def test_involved_agency():
    assert reasons(ineligible={"involved_agency": 2}) == [
        "2 are from Dunmere agencies involved in the case"
    ]


def test_conflict():
    assert reasons(ineligible={"conflict": 1}) == ["1 has declared a conflict of interest"]


def test_excluded():
    assert reasons(ineligible={"excluded": 2}) == [
        "2 were excluded by a coordinator or declined before"
    ]


def test_missing_experience():
    assert reasons(missing_experience=True) == [
        "No reviewer with 2 or more completed reviews could join the team"
    ]


def test_an_explanation_with_nothing_to_say_still_gives_a_reason():
    assert reasons() == ["No reviewer could join without breaking a team rule"]


def test_the_chart_puts_positive_balances_right_of_zero_and_negative_left():
    chart = balance_chart([BalanceRow("A", "Alpha", 4, 0), BalanceRow("B", "Bravo", -2, -1)])
    alpha, bravo = chart.rows
    assert alpha.before.x == chart.zero_x and alpha.before.width > bravo.before.width
    assert bravo.before.x + bravo.before.width == chart.zero_x
    assert chart.scale_max == 4
    assert alpha.after.value == 0 and alpha.after.width == 1.0  # a zero still shows a hairline


def test_reviewers_of_an_involved_organisation_are_counted_in_words():
    assert reasons(ineligible={"involved_organisation": 3}) == [
        "3 work for an organisation involved in the case"
    ]
    assert reasons(ineligible={"involved_organisation": 1, "involved_agency": 2}) == [
        "2 are from Dunmere agencies involved in the case",
        "1 works for an organisation involved in the case",
    ]
