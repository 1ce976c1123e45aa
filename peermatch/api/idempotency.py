"""``Idempotency-Key`` on POSTs: a repeat gets the first answer, and nothing is done twice.

How it holds under concurrency: the first call inserts the record (primary key: API key and
Idempotency-Key) with no status and commits it at once, before doing the work. A second call with
the same key cannot insert; it reads the record and

- if the body (or method, or path) differs: 422;
- if the first call has finished: replays its status and body;
- if the first call is still in flight: waits for it, up to ``WAIT_SECONDS``, then replays it,
  or answers 409 (with Retry-After) if it is still not done.

The first call writes its answer into the record in the same transaction as its work, so the
record says "done" exactly when the work is committed. If the work fails (a 4xx, say), the
record is deleted: only successful answers are kept, and a corrected retry may reuse the key.
A record left without a status for ``STALE_AFTER`` (a process died mid-call) is taken over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from peermatch.api.problems import ApiProblem, FieldError
from peermatch.models import IdempotencyRecord, utcnow

HEADER = "Idempotency-Key"
MAX_KEY = 255
KEY_PATTERN = r"^[!-~]+$"  # printable ASCII, no spaces: a UUID, say
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
STALE_AFTER = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Claim:
    """This call owns the key: do the work, then :func:`complete` (or :func:`release`)."""

    api_key_id: int
    key: str


@dataclass(frozen=True)
class Replay:
    """The first call's answer, to send again."""

    status: int
    body: bytes


def body_hash(body: bytes) -> str:
    """The same JSON sent with other spacing or key order is the same body."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:  # not JSON: decoding will refuse it; compare the bytes
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    if not re.fullmatch(KEY_PATTERN, key) or len(key) > MAX_KEY:
        raise ApiProblem(
            400,
            f"The {HEADER} header must be 1 to {MAX_KEY} printable ASCII characters, no spaces",
            [FieldError(pointer=HEADER, message="Not a valid idempotency key")],
        )
    return key


def begin(
    engine: Engine, api_key_id: int, key: str, *, method: str, path: str, body: bytes
) -> Claim | Replay:
    """Claim ``key`` for this call, or the answer to replay (see the module's docstring)."""
    digest = body_hash(body)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with Session(engine, expire_on_commit=False) as db:
            db.add(
                IdempotencyRecord(
                    api_key_id=api_key_id, key=key, method=method, path=path, body_hash=digest
                )
            )
            try:
                db.commit()
                return Claim(api_key_id, key)
            except IntegrityError:
                db.rollback()
            found = db.get(IdempotencyRecord, (api_key_id, key))
            if found is not None:
                if (found.body_hash, found.method, found.path) != (digest, method, path):
                    raise ApiProblem(
                        422,
                        f"This {HEADER} was used with a different request; "
                        "use a new key for a new request",
                        [FieldError(pointer=HEADER, message="Already used for another request")],
                    )
                if found.status_code is not None:
                    return Replay(found.status_code, (found.response_body or "").encode())
                if utcnow() - found.created_at > STALE_AFTER:
                    _delete(db, api_key_id, key)
                    db.commit()
                    continue
        if time.monotonic() > deadline:
            raise ApiProblem(
                409,
                f"A request with this {HEADER} is still being handled; try again shortly",
                headers={"Retry-After": "1"},
            )
        time.sleep(POLL_SECONDS)


def complete(db: Session, claim: Claim, status: int, body: bytes) -> None:
    """Store the answer in the caller's transaction, the one that does the work."""
    db.execute(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.api_key_id) == claim.api_key_id,
            col(IdempotencyRecord.key) == claim.key,
        )
        .values(status_code=status, response_body=body.decode("utf-8"))
    )


def release(engine: Engine, claim: Claim) -> None:
    """The work failed: forget the claim so the key can be used again."""
    with Session(engine) as db:
        _delete(db, claim.api_key_id, claim.key)
        db.commit()


def _delete(db: Session, api_key_id: int, key: str) -> None:
    db.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.api_key_id) == api_key_id,
            col(IdempotencyRecord.key) == key,
        )
    )
