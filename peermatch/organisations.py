"""Organisations: reviewers' employers (a police force, an integrated care board, a council's
children's services). One organisation has one agency type and serves one or more partnerships
of its region; independence in matching is by organisation (docs/matching.md).

Services take a session and the caller's region, flush but never commit, and report an
organisation outside the region as not found.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from peermatch import audit, text
from peermatch.errors import NotFound, ValidationFailed
from peermatch.models import Organisation, OrganisationPartnership, Partnership, Reviewer
from peermatch.vocabulary import load as load_vocabulary

MAX_NAME = 120
_BLANKS = re.compile(r"[ \t\r\n]+")


@dataclass
class OrganisationView:
    id: int
    name: str
    agency: str
    partnership_ids: list[int] = field(default_factory=list)
    reviewers: int = 0


def _views(session: Session, rows: Iterable[Organisation]) -> list[OrganisationView]:
    rows = list(rows)
    ids = [o.id for o in rows]
    served: dict[int, list[int]] = defaultdict(list)
    counts: dict[int, int] = {}
    if ids:
        for link in session.exec(
            select(OrganisationPartnership).where(
                col(OrganisationPartnership.organisation_id).in_(ids)
            )
        ):
            served[link.organisation_id].append(link.partnership_id)
        for org_id, n in session.exec(
            select(Reviewer.organisation_id, func.count(col(Reviewer.id)))
            .where(col(Reviewer.organisation_id).in_(ids))
            .group_by(col(Reviewer.organisation_id))
        ):
            counts[org_id or 0] = int(n)
    return [
        OrganisationView(
            id=o.id or 0,
            name=o.name,
            agency=o.agency,
            partnership_ids=sorted(served[o.id or 0]),
            reviewers=counts.get(o.id or 0, 0),
        )
        for o in rows
    ]


def list_organisations(
    session: Session,
    region_id: int,
    *,
    partnership_id: int | None = None,
    agency: str | None = None,
) -> list[OrganisationView]:
    """The region's organisations in agency then name order; only those serving
    ``partnership_id`` and of type ``agency`` when given."""
    query = select(Organisation).where(Organisation.region_id == region_id)
    if agency is not None:
        query = query.where(Organisation.agency == agency)
    if partnership_id is not None:
        query = query.join(
            OrganisationPartnership,
            col(OrganisationPartnership.organisation_id) == col(Organisation.id),
        ).where(OrganisationPartnership.partnership_id == partnership_id)
    order = list(load_vocabulary().agencies)
    views = _views(session, session.exec(query))
    return sorted(
        views,
        key=lambda o: (order.index(o.agency) if o.agency in order else 99, o.name.lower(), o.id),
    )


def get_organisation(session: Session, region_id: int, organisation_id: int) -> OrganisationView:
    org = session.get(Organisation, organisation_id)
    if org is None or org.region_id != region_id:
        raise NotFound("No such organisation")
    return _views(session, [org])[0]


def organisations_by_id(
    session: Session, region_id: int, ids: Iterable[int]
) -> dict[int, OrganisationView]:
    """Those of ``ids`` in the region (others are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(Organisation).where(
            col(Organisation.id).in_(wanted), Organisation.region_id == region_id
        )
    )
    return {o.id: o for o in _views(session, rows)}


def find_by_name(session: Session, region_id: int, name: str) -> Organisation | None:
    """The region's organisation of that name, ignoring case and spacing."""
    wanted = _squeeze(name).lower()
    return session.exec(
        select(Organisation).where(
            Organisation.region_id == region_id, func.lower(col(Organisation.name)) == wanted
        )
    ).first()


def _squeeze(value: str) -> str:
    return _BLANKS.sub(" ", value).strip(" ")


def _errors(
    session: Session,
    region_id: int,
    name: str,
    agency: str,
    partnership_ids: list[int],
    *,
    organisation_id: int | None = None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter the organisation's name"
    elif problem := text.text_problem(name, "Name", max_length=MAX_NAME):
        errors["name"] = problem
    else:
        same = find_by_name(session, region_id, name)
        if same is not None and same.id != organisation_id:
            errors["name"] = "Your region already has an organisation with this name"
    vocab = load_vocabulary()
    if not agency:
        errors["agency"] = "Choose the organisation's agency type"
    elif agency not in vocab.agencies:
        errors["agency"] = f"Agency must be one of: {', '.join(vocab.agencies)}"
    in_region = set(
        session.exec(select(Partnership.id).where(Partnership.region_id == region_id)).all()
    )
    if not partnership_ids:
        errors["partnership_ids"] = "Choose at least one partnership it serves"
    elif any(p not in in_region for p in partnership_ids):
        errors["partnership_ids"] = "Choose partnerships in your region"
    return errors


def create_organisation(
    session: Session,
    region_id: int,
    *,
    name: str,
    agency: str,
    partnership_ids: Iterable[int],
    actor: str,
) -> OrganisationView:
    name = _squeeze(name)
    agency = agency.strip()
    pids = sorted(set(partnership_ids))
    if errors := _errors(session, region_id, name, agency, pids):
        raise ValidationFailed(errors)
    org = _insert(session, region_id, name, agency, pids)
    audit.record(
        session,
        actor=actor,
        action="organisation.create",
        entity="organisation",
        entity_id=org.id,
        region_id=region_id,
        detail={"agency": agency, "partnerships": len(pids)},
    )
    session.flush()
    return get_organisation(session, region_id, org.id or 0)


def update_organisation(
    session: Session,
    region_id: int,
    organisation_id: int,
    *,
    name: str,
    partnership_ids: Iterable[int],
    actor: str,
) -> OrganisationView:
    """Rename an organisation or change the partnerships it serves. Its agency type stays (its
    reviewers are of that type); a partnership cannot be dropped while its reviewers work for
    the organisation."""
    before = get_organisation(session, region_id, organisation_id)
    name = _squeeze(name)
    pids = sorted(set(partnership_ids))
    errors = _errors(session, region_id, name, before.agency, pids, organisation_id=organisation_id)
    dropped = set(before.partnership_ids) - set(pids)
    if dropped and "partnership_ids" not in errors:
        staffed = session.exec(
            select(Reviewer.id).where(
                Reviewer.organisation_id == organisation_id,
                col(Reviewer.partnership_id).in_(sorted(dropped)),
            )
        ).first()
        if staffed is not None:
            errors["partnership_ids"] = (
                "Keep every partnership whose reviewers work for this organisation; "
                "move those reviewers first"
            )
    if errors:
        raise ValidationFailed(errors)
    changed = [
        f
        for f, was, now in (
            ("name", before.name, name),
            ("partnerships", before.partnership_ids, pids),
        )
        if was != now
    ]
    if not changed:
        return before
    org = session.get(Organisation, organisation_id)
    assert org is not None
    org.name = name
    session.add(org)
    _serve(session, organisation_id, pids)
    audit.record(
        session,
        actor=actor,
        action="organisation.update",
        entity="organisation",
        entity_id=organisation_id,
        region_id=region_id,
        detail={"fields": changed},
    )
    session.flush()
    return get_organisation(session, region_id, organisation_id)


def _insert(
    session: Session, region_id: int, name: str, agency: str, pids: list[int]
) -> Organisation:
    org = Organisation(region_id=region_id, name=name, agency=agency)
    session.add(org)
    session.flush()
    _serve(session, org.id or 0, pids)
    return org


def _serve(session: Session, organisation_id: int, pids: list[int]) -> None:
    session.execute(
        delete(OrganisationPartnership).where(
            col(OrganisationPartnership.organisation_id) == organisation_id
        )
    )
    session.add_all(
        OrganisationPartnership(organisation_id=organisation_id, partnership_id=p) for p in pids
    )
    session.flush()


def default_name(partnership: Partnership, agency: str) -> str:
    return f"{partnership.name} {load_vocabulary().agency_label(agency)}"[:MAX_NAME]


def default_organisation(session: Session, partnership: Partnership, agency: str) -> int:
    """The organisation "<Partnership> <agency label>" (created, serving only that partnership,
    if missing): where a reviewer goes when no organisation is named, as migration 0006 did for
    the reviewers before it."""
    name = default_name(partnership, agency)
    found = find_by_name(session, partnership.region_id, name)
    if found is not None and found.agency == agency:
        if session.get(OrganisationPartnership, (found.id, partnership.id)) is None:
            session.add(
                OrganisationPartnership(
                    organisation_id=found.id or 0, partnership_id=partnership.id or 0
                )
            )
            session.flush()
        return found.id or 0
    if found is not None:  # the name is another agency's: keep them apart
        name = f"{partnership.name} ({partnership.code}) {load_vocabulary().agency_label(agency)}"
    org = _insert(session, partnership.region_id, name[:MAX_NAME], agency, [partnership.id or 0])
    return org.id or 0


def serves(session: Session, organisation_id: int, partnership_id: int) -> bool:
    return session.get(OrganisationPartnership, (organisation_id, partnership_id)) is not None
