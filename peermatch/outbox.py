"""The transactional outbox: emails written in the transaction of the change that causes them,
delivered later by a relay.

- ``enqueue`` adds a message to the caller's session; it is sent only if that transaction
  commits, and it is never lost if the mail server is down.
- ``relay_once`` claims due messages, sends them and records the outcome. A claim sets
  ``claimed_until`` (a lease) in a short transaction of its own: on PostgreSQL the claiming
  SELECT skips rows another relay has locked (``FOR UPDATE SKIP LOCKED``); on SQLite it runs under
  ``BEGIN IMMEDIATE``, so claims are taken one relay at a time. Either way two relays never hold
  the same message, and a relay that dies mid-send only delays its messages until the lease ends.
- Temporary failures (4xx, refused or dropped connections) are retried with exponential backoff
  from ``PEERMATCH_SMTP_RETRY_SECONDS``; a permanent refusal (5xx), or a message still undelivered
  ``PEERMATCH_SMTP_GIVE_UP_HOURS`` after it was written (or last retried by hand), becomes a dead
  letter, which a coordinator can read and retry.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from peermatch import audit, email_address
from peermatch.errors import Conflict, NotFound
from peermatch.mailer import DeliveryFailed, SmtpConfig, parse_smtp_url, send
from peermatch.models import Assignment, OutboxMessage, OutboxStatus, Reviewer, utcnow
from peermatch.settings import Settings

log = logging.getLogger("peermatch.outbox")

LEASE = dt.timedelta(minutes=10)  # far longer than one SMTP exchange (timeout 30 s)
MAX_BACKOFF = dt.timedelta(hours=6)
BATCH = 20


@dataclass(frozen=True)
class Email:
    """A rendered message, ready for the outbox."""

    subject: str
    text: str
    html: str
    ics: str | None = None


@dataclass
class RelayReport:
    sent: int = 0
    deferred: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.dead


def enqueue(
    session: Session,
    *,
    settings: Settings,
    kind: str,
    to_address: str,
    email: Email,
    region_id: int | None,
    assignment_id: int | None = None,
) -> OutboxMessage:
    """Write a message in the caller's transaction. Its Message-ID is fixed now, so every
    retry sends the same one and a receiving server can recognise a repeat."""
    written = utcnow()
    message = OutboxMessage(
        created_at=written,
        next_attempt_at=written,
        region_id=region_id,
        assignment_id=assignment_id,
        kind=kind,
        message_id=make_msgid(domain=_domain(settings)),
        to_address=to_address,
        subject=email.subject,
        text_body=email.text,
        html_body=email.html,
        ics=email.ics,
    )
    session.add(message)
    session.flush()
    return message


def _domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "peermatch.invalid"


def to_email_message(message: OutboxMessage, settings: Settings) -> EmailMessage:
    """The MIME message: plain text, HTML alternative, and the calendar invitation both as an
    alternative part (for clients that show invitations inline) and as an attachment."""
    # Only ever the one stored, normalised address: a row that is not one (written before the
    # check, or by hand) is refused here and becomes a dead letter, never parsed for recipients.
    if not email_address.is_valid(message.to_address):
        raise ValueError("the recipient is not one normalised email address")
    mime = EmailMessage()
    mime["From"] = settings.mail_from
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Message-ID"] = message.message_id
    mime["Date"] = format_datetime(message.created_at.replace(tzinfo=dt.UTC))
    mime.set_content(message.text_body)
    mime.add_alternative(message.html_body, subtype="html")
    if message.ics:
        method = "CANCEL" if "METHOD:CANCEL" in message.ics else "REQUEST"
        mime.add_attachment(
            message.ics.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="invitation.ics",
            params={"method": method, "charset": "utf-8"},
        )
    return mime


# --- the relay ---------------------------------------------------------------------------------


def relay_once(
    engine: Engine, settings: Settings, *, now: dt.datetime | None = None
) -> RelayReport:
    """Deliver every message due now; deferred ones wait for their next attempt. Does nothing
    without ``PEERMATCH_SMTP_URL`` (messages wait in the outbox, readable in the UI)."""
    report = RelayReport()
    if settings.smtp_url is None:
        return report
    config = parse_smtp_url(settings.smtp_url)
    started = now or utcnow()
    while True:
        claimed = claim(engine, now=now or utcnow())
        if not claimed:
            return report
        for message_id, lease in claimed:
            _deliver(engine, settings, config, message_id, lease, now=now, report=report)
        if now is None and utcnow() - started > LEASE / 2:
            return report  # let a loop caller see progress; the rest is due next round


def claim(engine: Engine, *, now: dt.datetime, limit: int = BATCH) -> list[tuple[int, dt.datetime]]:
    """Take a lease on up to ``limit`` due messages; returns (id, lease) pairs. The lease value
    is this claim's own token: recording an outcome requires it to be unchanged."""
    lease = now + LEASE
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.pending,
            col(OutboxMessage.next_attempt_at) <= now,
            or_(
                col(OutboxMessage.claimed_until).is_(None),
                col(OutboxMessage.claimed_until) < now,
            ),
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    with engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # one claimer at a time
        elif dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = [int(i) for i in connection.execute(due).scalars().all()]
        if ids:
            connection.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids))
                .values(claimed_until=lease)
            )
        connection.commit()
    return [(i, lease) for i in ids]


def _deliver(
    engine: Engine,
    settings: Settings,
    config: SmtpConfig,
    message_id: int,
    lease: dt.datetime,
    *,
    now: dt.datetime | None,
    report: RelayReport,
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        message = session.get(OutboxMessage, message_id)
        if message is None or message.claimed_until != lease:
            return
        give_up_from = message.created_at if message.retried_at is None else message.retried_at
        attempts = message.attempts + 1
        failure: DeliveryFailed | None = None
        try:
            mime = to_email_message(message, settings)
        except (ValueError, TypeError) as exc:  # a header the email library refuses
            failure = DeliveryFailed(f"000 unsendable {type(exc).__name__}", permanent=True)
    if failure is None:
        try:
            send(config, mime, to=message.to_address, timeout=settings.smtp_timeout_seconds)
        except DeliveryFailed as exc:
            failure = exc
    at = now or utcnow()
    values: dict[str, object] = {"attempts": attempts, "claimed_until": None}
    if failure is None:
        values.update(status=OutboxStatus.sent, sent_at=at, last_error=None)
        report.sent += 1
        log.info("outbox message %s sent (attempt %s)", message_id, attempts)
    elif failure.permanent or at - give_up_from >= dt.timedelta(hours=settings.smtp_give_up_hours):
        values.update(status=OutboxStatus.dead, last_error=failure.reason[:500])
        report.dead += 1
        log.warning("outbox message %s is a dead letter: %s", message_id, failure.reason)
    else:
        delay = min(
            dt.timedelta(seconds=settings.smtp_retry_seconds * 2 ** (attempts - 1)), MAX_BACKOFF
        )
        values.update(next_attempt_at=at + delay, last_error=failure.reason[:500])
        report.deferred += 1
        log.info(
            "outbox message %s deferred %ss: %s", message_id, int(delay.total_seconds()), failure
        )
    with Session(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.claimed_until) == lease)
            .values(**values)
        )
        session.commit()


# --- what coordinators see and do --------------------------------------------------------------


def counts(session: Session, region_id: int) -> dict[str, int]:
    """Messages of the region by status."""
    rows = session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.region_id == region_id)
        .group_by(OutboxMessage.status)
    ).all()
    found = {str(status): int(n) for status, n in rows}
    return {str(s): found.get(str(s), 0) for s in OutboxStatus}


def list_messages(
    session: Session, region_id: int, status: OutboxStatus, *, limit: int = 100
) -> list[OutboxMessage]:
    newest_first = col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc()
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.region_id == region_id, OutboxMessage.status == status)
            .order_by(*newest_first)
            .limit(limit)
        ).all()
    )


def get_message(session: Session, region_id: int, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None or message.region_id != region_id:
        raise NotFound("No such message")
    return message


# What stands in for an answer link when a mail server delivers the emails: a coordinator must not
# be able to accept or decline in a reviewer's name by reading the outbox.
HIDDEN_LINK = "link hidden: sent to the reviewer by email"
# An answer link wherever it stands: the whole URL (whatever base URL it was written with), and
# the token of the signed link (itsdangerous: URL-safe base64 and dots).
_ANSWER_URL = re.compile(r"""[^\s"'<>()]*/answer/[A-Za-z0-9_.\-]+""")
_ANSWER_ANCHOR = re.compile(
    r"""<a\b[^>]*\bhref\s*=\s*["'][^"']*/answer/[^"']*["'][^>]*>.*?</a\s*>""",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class ShownMessage:
    """An outbox message as a coordinator may read it."""

    message: OutboxMessage
    text: str
    html: str
    links_hidden: bool


def hide_answer_links(text: str) -> str:
    """``text`` (plain or HTML) with every answer link replaced by ``HIDDEN_LINK``; a link in
    an HTML anchor loses the whole anchor, so no attribute keeps its token."""
    shown = _ANSWER_ANCHOR.sub(f"<strong>{HIDDEN_LINK}</strong>", text)
    return _ANSWER_URL.sub(HIDDEN_LINK, shown)


def read_message(
    session: Session,
    settings: Settings,
    region_id: int,
    message_id: int,
    *,
    actor: str,
    part: str = "text",
) -> ShownMessage:
    """A message for a coordinator to read, the reading audited. With a mail server set up
    (``PEERMATCH_SMTP_URL``) the reviewer gets the email, so its answer links are hidden;
    without one the coordinator forwards the link, so it is shown. The stored message is left
    as it is (the relay sends it whole)."""
    message = get_message(session, region_id, message_id)
    hide = settings.smtp_url is not None
    audit.record(
        session,
        actor=actor,
        action="outbox.view",
        entity="outboxmessage",
        entity_id=message.id,
        region_id=region_id,
        detail={"kind": message.kind, "part": part, "links_hidden": hide},
    )
    session.flush()
    if not hide:
        return ShownMessage(message, message.text_body, message.html_body, links_hidden=False)
    return ShownMessage(
        message,
        hide_answer_links(message.text_body),
        hide_answer_links(message.html_body),
        links_hidden=True,
    )


def retry(session: Session, region_id: int, message_id: int, *, actor: str) -> OutboxMessage:
    """Put a dead letter back in the queue, due now, with a fresh give-up period. An email to a
    reviewer goes to their address as the registry has it now (a mistyped address that caused
    the refusal can be corrected there first)."""
    message = get_message(session, region_id, message_id)
    if message.status != OutboxStatus.dead:
        raise Conflict("Only a message that could not be delivered can be retried")
    assignment = session.get(Assignment, message.assignment_id) if message.assignment_id else None
    reviewer = session.get(Reviewer, assignment.reviewer_id) if assignment else None
    if reviewer is not None:
        message.to_address = reviewer.email
    now = utcnow()
    message.status = OutboxStatus.pending
    message.next_attempt_at = now
    message.retried_at = now
    message.claimed_until = None
    session.add(message)
    audit.record(
        session,
        actor=actor,
        action="outbox.retry",
        entity="outboxmessage",
        entity_id=message.id,
        region_id=region_id,
        detail={"kind": message.kind, "attempts": message.attempts},
    )
    session.flush()
    return message
