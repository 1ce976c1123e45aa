"""The demo data loads into an empty database, once."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func
from sqlmodel import select

from peermatch import accounts, demo, registry
from peermatch.models import Partnership, Region, RequestStatus, Reviewer, ReviewRequest
from peermatch.vocabulary import load as load_vocabulary


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
