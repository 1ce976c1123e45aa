"""The demo regions, loaded into an empty database by ``peermatch seed demo``.

Everything here is invented (people, places, references); see ``data/demo/generate.py``. The
password is for the local demo only: production mode refuses to seed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from peermatch import accounts, ledger, organisations, registry, reviewer_csv
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    Partnership,
    Region,
    RequestSource,
    RequestStatus,
    Reviewer,
    ReviewerConflict,
    ReviewerSkill,
    ReviewRequest,
    Unavailability,
)
from peermatch.resources import resource_dir
from peermatch.staffing.requests import RequestInput, create_request

DEMO_DIR = resource_dir("data") / "demo"
DEMO_REGION_CODE = "demo-north"
DEMO_COORDINATOR_EMAIL = "coordinator@demo.peermatch.example"
# Printed when the demo starts; only ever loaded outside production mode.
DEMO_COORDINATOR_PASSWORD = "demo-only-not-a-secret"
ACTOR = "seed"


def seed_demo(session: Session, data_dir: Path = DEMO_DIR) -> bool:
    """Load the demo regions; False (and nothing written) if the database has any region."""
    if session.exec(select(Region.id)).first() is not None:
        return False
    regions = json.loads((data_dir / "regions.json").read_text(encoding="utf-8"))
    for entry in regions:
        region = _region(session, entry)
        content = (data_dir / f"reviewers-{entry['code']}.csv").read_bytes()
        reviewer_csv.apply_import(session, region.id or 0, content, actor=ACTOR)
    requests = json.loads((data_dir / "requests.json").read_text(encoding="utf-8"))
    for entry in requests:
        _request(session, entry)
    session.flush()
    _seat_demo_teams(session)
    session.flush()
    return True


def _region(session: Session, entry: dict[str, Any]) -> Region:
    region = Region(code=entry["code"], name=entry["name"])
    session.add(region)
    session.flush()
    assert region.id is not None
    session.add_all(
        Partnership(
            region_id=region.id,
            code=p["code"],
            name=p["name"],
            opening_lent=p["opening_lent"],
            opening_received=p["opening_received"],
        )
        for p in entry["partnerships"]
    )
    session.flush()
    # Shared employers (a police force, an integrated care board) before the reviewers that
    # name them; everyone else goes to their partnership's own organisation on import.
    for org in entry.get("organisations", []):
        organisations.create_organisation(
            session,
            region.id,
            name=org["name"],
            agency=org["agency"],
            partnership_ids=[
                registry.find_partnership(session, region.id, code).id or 0
                for code in org["partnerships"]
            ],
            actor=ACTOR,
        )
    accounts.create_user(
        session,
        email=entry["coordinator"]["email"],
        name=entry["coordinator"]["name"],
        password=DEMO_COORDINATOR_PASSWORD,
        region_id=region.id,
        actor=ACTOR,
    )
    return region


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _request(session: Session, entry: dict[str, Any]) -> None:
    region = registry.find_region(session, entry["region"])
    assert region.id is not None
    partnership = registry.find_partnership(session, region.id, entry["partnership"])
    data = RequestInput(
        partnership_id=partnership.id,
        reference=entry["reference"],
        methodology=entry["methodology"],
        window_start=_date(entry["window_start"]),
        window_end=_date(entry["window_end"]),
        peers=entry["peers"],
        high_profile=entry["high_profile"],
        agencies_involved=entry["agencies_involved"],
        organisations_involved=[
            _organisation_id(session, region.id, name)
            for name in entry.get("organisations_involved", [])
        ],
        required_skills=entry["required_skills"],
        notified_on=_date(entry["notified_on"]),
        statutory_deadline=_date(entry.get("statutory_deadline")),
        needs_experienced=entry.get("needs_experienced"),
    )
    create_request(
        session,
        region.id,
        data,
        actor=ACTOR,
        status=RequestStatus(entry["status"]),
        source=RequestSource.seed,
    )


def _organisation_id(session: Session, region_id: int, name: str) -> int:
    found = organisations.find_by_name(session, region_id, name)
    assert found is not None and found.id is not None, name
    return found.id


# Seats held in the demo: staffed and completed requests have every seat accepted, a request
# still inviting has one accepted, one invited and one declined (so one seat is still to fill).
_HELD = {
    RequestStatus.staffed: "all",
    RequestStatus.completed: "all",
    RequestStatus.inviting: "some",
}


def _seat_demo_teams(session: Session) -> None:
    """Give the demo's staffed, completed and inviting requests the teams they would have had,
    chosen by the independence rules (another partnership, an agency not involved, no declared
    conflict, free during the window, one per agency, within capacity), the ledger written."""
    reviewers = session.exec(select(Reviewer).order_by(col(Reviewer.id))).all()
    skills: dict[int, set[str]] = {}
    for s in session.exec(select(ReviewerSkill)):
        skills.setdefault(s.reviewer_id, set()).add(s.skill)
    away = session.exec(select(Unavailability)).all()
    conflicts = {(c.reviewer_id, c.partnership_id) for c in session.exec(select(ReviewerConflict))}
    regions = {p.id: p.region_id for p in session.exec(select(Partnership))}
    held: dict[int, int] = {}
    requests = session.exec(
        select(ReviewRequest)
        .where(col(ReviewRequest.status).in_(list(_HELD)))
        .order_by(col(ReviewRequest.id))
    ).all()
    for request in requests:

        def fits(r: Reviewer, request: ReviewRequest = request) -> bool:
            return (
                r.active
                and held.get(r.id or 0, 0) < r.capacity
                and r.partnership_id != request.partnership_id
                and regions[r.partnership_id] == regions[request.partnership_id]
                and r.agency not in request.agencies_involved
                and r.organisation_id not in (request.organisations_involved or [])
                and (r.id, request.partnership_id) not in conflicts
                and not any(
                    a.reviewer_id == r.id
                    and a.starts_on <= request.window_end
                    and a.ends_on >= request.window_start
                    for a in away
                )
            )

        team: list[Reviewer] = []
        # Skilled reviewers first, so the team covers what the review needs.
        ranked = sorted(
            (r for r in reviewers if fits(r)),
            key=lambda r: -len(skills.get(r.id or 0, set()) & set(request.required_skills)),
        )
        for r in ranked:
            if len(team) < request.peers and r.agency not in {t.agency for t in team}:
                team.append(r)
        for n, reviewer in enumerate(team):
            status = AssignmentStatus.accepted
            if _HELD[RequestStatus(request.status)] == "some" and n > 0:
                status = AssignmentStatus.invited if n == 1 else AssignmentStatus.declined
            assignment = Assignment(
                request_id=request.id or 0, reviewer_id=reviewer.id or 0, status=status
            )
            session.add(assignment)
            session.flush()
            if status == AssignmentStatus.accepted:
                ledger.record_acceptance(session, assignment, on=request.window_start)
            if status in (AssignmentStatus.accepted, AssignmentStatus.invited):
                held[reviewer.id or 0] = held.get(reviewer.id or 0, 0) + 1
