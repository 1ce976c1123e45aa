"""Who did something, in words for the pages: a coordinator's name, a reviewer's name, the
partnership's API, the command line. Audit actors are ``user:12``, ``reviewer:7``,
``apikey:3``, ``cli``, ``seed`` or ``system``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from peermatch.models import Reviewer, User

_FIXED = {"cli": "Command line", "system": "PeerMatch", "seed": "Demo data"}


def _number(actor: str, kind: str) -> int | None:
    prefix, _, number = actor.partition(":")
    return int(number) if prefix == kind and number.isascii() and number.isdigit() else None


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """Each actor's name as the pages show it (see ``who``)."""
    actors = set(actors)
    user_ids = {n for a in actors if (n := _number(a, "user")) is not None}
    reviewer_ids = {n for a in actors if (n := _number(a, "reviewer")) is not None}
    users = session.exec(select(User).where(col(User.id).in_(user_ids))).all() if user_ids else []
    names = {f"user:{u.id}": u.name for u in users}
    names |= {f"reviewer:{r}": n for r, n in reviewer_names(session, reviewer_ids).items()}
    return {a: who(a, names) for a in actors}


def who(actor: str, names: dict[str, str]) -> str:
    if actor in names:
        return names[actor]
    if actor.startswith("user:"):
        return "A coordinator"
    if actor.startswith("reviewer:"):
        return "A reviewer"
    if actor.startswith("apikey:"):
        return "The partnership, through the API"
    return _FIXED.get(actor, "PeerMatch")


def reviewer_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    rows = session.exec(select(Reviewer).where(col(Reviewer.id).in_(ids))).all()
    return {r.id or 0: r.name for r in rows}
