"""The demo regions, loaded into an empty database by ``peermatch seed demo``.

Everything here is invented (people, places, references); see ``data/demo/generate.py``. The
password is for the local demo only: production mode refuses to seed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from peermatch import accounts, registry, reviewer_csv
from peermatch.models import Partnership, Region, RequestSource, RequestStatus
from peermatch.requests import RequestInput, create_request
from peermatch.settings import PROJECT_ROOT

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
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
