"""The demo data loads into an empty database, once."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func
from sqlmodel import select

from peermatch import accounts, demo, registry
from peermatch.models import Partnership, Region, RequestStatus, Reviewer, ReviewRequest
from peermatch.staffing import requests
from peermatch.vocabulary import load as load_vocabulary
from peermatch.web.pages import home


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_it_seeds_the_demo_regions_once(session):
    assert demo.seed_demo(session) is True
    session.commit()
    counts = (_count(session, Region), _count(session, Reviewer), _count(session, ReviewRequest))
    assert demo.seed_demo(session) is False
    session.commit()
    assert (_count(session, Region), _count(session, Reviewer), _count(session, ReviewRequest)) == (
        counts
    )


def test_the_demo_region_has_the_promised_size_and_variety(session):
    demo.seed_demo(session)
    session.commit()
    region = registry.find_region(session, demo.DEMO_REGION_CODE)
    partnerships = registry.list_partnerships(session, region.id)
    assert 8 <= len(partnerships) <= 12
    reviewers = registry.all_reviewers(session, region.id)
    assert 140 <= len(reviewers) <= 160
    vocab = load_vocabulary()
    assert {r.agency for r in reviewers} == set(vocab.agencies)
    assert {s for r in reviewers for s in r.skills} == set(vocab.skills)
    assert sum(bool(r.unavailable) for r in reviewers) > 50
    assert sum(bool(r.conflict_partnership_ids) for r in reviewers) > 5
    requests = session.exec(
        select(ReviewRequest)
        .join(Partnership, Partnership.id == ReviewRequest.partnership_id)
        .where(Partnership.region_id == region.id)
    ).all()
    assert 10 <= len(requests) <= 14
    assert len({r.status for r in requests}) >= 6
    assert RequestStatus.submitted in {r.status for r in requests}


def test_the_demo_coordinator_can_sign_in_to_the_demo_region(session):
    demo.seed_demo(session)
    session.commit()
    user = accounts.authenticate(
        session, demo.DEMO_COORDINATOR_EMAIL, demo.DEMO_COORDINATOR_PASSWORD
    )
    assert user.region_id == registry.find_region(session, demo.DEMO_REGION_CODE).id


def test_a_second_region_with_its_own_coordinator_is_isolated(session):
    demo.seed_demo(session)
    session.commit()
    assert _count(session, Region) == 2
    north = registry.find_region(session, demo.DEMO_REGION_CODE)
    south = session.exec(select(Region).where(Region.id != north.id)).one()
    assert registry.all_reviewers(session, south.id)
    emails = {r.email for r in registry.all_reviewers(session, north.id)}
    assert emails.isdisjoint(r.email for r in registry.all_reviewers(session, south.id))


def test_the_demo_uses_invented_example_addresses_only():
    for path in demo.DEMO_DIR.glob("reviewers-*.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text())):
            assert row["email"].endswith(("@example.org", ".example"))


def test_the_demo_region_has_varied_requests_ready_to_match(session):
    demo.seed_demo(session)
    session.commit()
    region = registry.find_region(session, demo.DEMO_REGION_CODE)
    submitted = requests.list_requests(
        session, region.id, requests.RequestFilter(RequestStatus.submitted)
    ).items
    assert len(submitted) >= 3
    assert any(r.high_profile for r in submitted)
    active = [r for r in registry.all_reviewers(session, region.id) if r.active and r.capacity]
    holders = {s: sum(s in r.skills for r in active) for s in load_vocabulary().skills}
    scarce = min(holders, key=lambda s: holders[s])
    assert holders[scarce] < len(active) / 10
    needs_scarce = [
        r for r in submitted if scarce in session.get(ReviewRequest, r.id).required_skills
    ]
    assert needs_scarce
    assert all(session.get(ReviewRequest, r.id).source == "seed" for r in submitted)


def test_the_demo_staffed_requests_have_their_teams_and_experience_is_recorded(session):
    demo.seed_demo(session)
    session.commit()
    region = registry.find_region(session, demo.DEMO_REGION_CODE)
    staffed = requests.list_requests(
        session, region.id, requests.RequestFilter(RequestStatus.staffed)
    ).items
    assert staffed and all(r.seats.accepted >= 3 for r in staffed)
    board = home.dashboard(session, region.id, dt.date(2026, 11, 30))
    assert board.seats.accepted > 0 and board.seats.unfilled > 0
    reviewers = registry.all_reviewers(session, region.id)
    assert sum(r.prior_reviews > 0 for r in reviewers) > len(reviewers) / 3
    counted = registry.reviews_completed(session, [r.id for r in reviewers])
    grown = [r for r in reviewers if counted[r.id][0] > r.prior_reviews]
    assert grown  # the completed demo reviews count on top of the earlier ones


def test_the_demo_has_a_police_force_and_a_care_board_serving_several_partnerships(session):
    from peermatch import organisations
    from peermatch.models import Organisation

    assert demo.seed_demo(session)
    region = registry.find_region(session, demo.DEMO_REGION_CODE)
    force = organisations.find_by_name(session, region.id, "Northshire Police")
    icb = organisations.find_by_name(
        session, region.id, "Northvale and Moors Integrated Care Board"
    )
    assert force is not None and icb is not None
    force_view = organisations.get_organisation(session, region.id, force.id)
    assert force_view.agency == "police" and len(force_view.partnership_ids) == 5
    officers = session.exec(select(Reviewer).where(Reviewer.organisation_id == force.id)).all()
    assert len({r.partnership_id for r in officers}) > 1 and all(
        r.agency == "police" for r in officers
    )
    # Every reviewer belongs to an organisation of their agency serving their partnership.
    for r in session.exec(select(Reviewer)):
        org = session.get(Organisation, r.organisation_id)
        assert org is not None and org.agency == r.agency
        assert organisations.serves(session, org.id, r.partnership_id)
    named = [
        q
        for q in session.exec(select(ReviewRequest))
        if force.id in (q.organisations_involved or [])
    ]
    assert named and all("police" in q.agencies_involved for q in named)
    # The seeded teams keep the rule too.
    from peermatch.models import Assignment

    for q in named:
        for a in session.exec(select(Assignment).where(Assignment.request_id == q.id)):
            assert session.get(Reviewer, a.reviewer_id).organisation_id != force.id
