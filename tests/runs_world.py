"""A small region to match, built through the services as a coordinator would: three
partnerships (ALPHA, BRAVO, CHARLIE) in Region A, reviewers of several agencies in each, and
requests of any status. Shared by the matching-run tests (integration, web, CLI)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from peermatch import registry
from peermatch.models import Partnership, Region, RequestStatus, ReviewRequest
from peermatch.registry import ReviewerInput
from peermatch.staffing.requests import RequestInput, create_request

WINDOW = (dt.date(2027, 3, 1), dt.date(2027, 3, 19))


@dataclass
class World:
    region: Region
    partnerships: dict[str, Partnership]
    reviewers: dict[str, int] = field(default_factory=dict)  # name -> id

    @property
    def region_id(self) -> int:
        assert self.region.id is not None
        return self.region.id


def build_world(session: Session, region: Region, alpha: Partnership) -> World:
    """Region A with ALPHA (given), BRAVO and CHARLIE, and nine reviewers."""
    partnerships = {"ALPHA": alpha}
    for code, name in (("BRAVO", "Bravoton"), ("CHARLIE", "Charlford")):
        p = Partnership(region_id=region.id or 0, code=code, name=f"{name} Partnership")
        session.add(p)
        session.flush()
        partnerships[code] = p
    world = World(region=region, partnerships=partnerships)
    people = [
        ("Ava Alpha", "ALPHA", "police", ["rca", "lead-reviewer"]),
        ("Ali Alpha", "ALPHA", "health", ["peer-review"]),
        ("Aki Alpha", "ALPHA", "education", ["peer-review"]),
        ("Bea Bravo", "BRAVO", "police", ["peer-review", "lead-reviewer"]),
        ("Ben Bravo", "BRAVO", "health", ["rca"]),
        ("Bo Bravo", "BRAVO", "local-authority", ["peer-review"]),
        ("Cal Charlie", "CHARLIE", "police", ["peer-review"]),
        ("Cy Charlie", "CHARLIE", "health", ["peer-review", "rca"]),
        ("Cleo Charlie", "CHARLIE", "probation", ["lead-reviewer"]),
    ]
    for name, code, agency, skills in people:
        world.reviewers[name] = add(session, world, name, code, agency, skills)
    session.commit()
    return world


def add(
    session: Session,
    world: World,
    name: str,
    code: str,
    agency: str,
    skills: list[str],
    **extra: object,
) -> int:
    data = ReviewerInput(
        name=name,
        email=name.lower().replace(" ", ".") + "@example.org",
        partnership_id=world.partnerships[code].id,
        agency=agency,
        skills=skills,
        capacity=extra.pop("capacity", 1),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )
    view = registry.create_reviewer(session, world.region_id, data, actor="test")
    world.reviewers[name] = view.id
    return view.id


def request(
    session: Session,
    world: World,
    code: str,
    reference: str,
    *,
    status: RequestStatus = RequestStatus.submitted,
    peers: int = 2,
    high_profile: bool = False,
    skills: list[str] | None = None,
    agencies: list[str] | None = None,
    window: tuple[dt.date, dt.date] = WINDOW,
    needs_experienced: bool = False,  # the world's reviewers have no reviews behind them
) -> ReviewRequest:
    data = RequestInput(
        partnership_id=world.partnerships[code].id,
        reference=reference,
        methodology="peer-review",
        window_start=window[0],
        window_end=window[1],
        peers=peers,
        high_profile=high_profile,
        agencies_involved=agencies or [],
        required_skills=skills or [],
        needs_experienced=needs_experienced,
    )
    created = create_request(session, world.region_id, data, actor="test", status=status)
    session.commit()
    return created
