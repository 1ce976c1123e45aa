"""The append-only audit log. Call ``record`` inside the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from peermatch.models import AuditEvent


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: object | None = None,
    region_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event. ``detail`` names what changed (field names, counts), never
    personal data such as names or email addresses."""
    event = AuditEvent(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        region_id=region_id,
        detail=detail or {},
    )
    session.add(event)
    return event
