"""Coordinator accounts (argon2 password hashes, sign-in throttling) and partnership API keys.

Sign-in never says whether an email address has an account: unknown addresses and wrong
passwords fail with the same message and cost the same argon2 time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from peermatch import audit, email_address, text, throttle
from peermatch.errors import DomainError, NotFound, ValidationFailed
from peermatch.models import ApiKey, Partnership, Region, Role, User, utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 would hash a megabyte; no one types one
API_KEY_SCHEME = "pm"
MAX_API_KEY_DAYS = 3650
_UNKNOWN_DIGEST = "0" * 64
DUPLICATE_EMAIL = "An account with this email address already exists"

_hasher = PasswordHasher()


class SignInFailed(DomainError):
    """Wrong email or password; deliberately does not say which."""

    def __init__(self) -> None:
        super().__init__("Enter a correct email address and password")


class SignInThrottled(DomainError):
    """Too many recent failures from this client (for this email or any); try again after
    ``retry_after_seconds``. Said the same way whether or not the email has an account."""

    def __init__(self, retry_after_seconds: int) -> None:
        if retry_after_seconds < 60:
            wait = f"{retry_after_seconds} second{'s' if retry_after_seconds != 1 else ''}"
        else:
            minutes = -(-retry_after_seconds // 60)
            wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        super().__init__(f"Too many failed sign-in attempts. Wait {wait} and try again")
        self.retry_after_seconds = retry_after_seconds


# --- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hash: str, password: str) -> bool:
    try:
        return _hasher.verify(hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hash: str) -> bool:
    return _hasher.check_needs_rehash(hash)


@cache
def _dummy_hash() -> str:
    # Verified against for unknown emails so that they take as long as a wrong password.
    return _hasher.hash(secrets.token_urlsafe(16))


# --- users -----------------------------------------------------------------------------------


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email_address.normalise(email))).first()


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    region_id: int,
    role: Role = Role.coordinator,
    actor: str = "cli",
) -> User:
    email = email_address.normalise(email)
    errors: dict[str, str] = {}
    if not email_address.is_valid(email):
        errors["email"] = email_address.FORMAT_MESSAGE
    elif find_user_by_email(session, email) is not None:
        errors["email"] = DUPLICATE_EMAIL
    if not name.strip():
        errors["name"] = "Enter a name"
    elif problem := text.text_problem(name.strip(), "Name", max_length=120):
        errors["name"] = problem
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    if session.get(Region, region_id) is None:
        errors["region_id"] = "Choose a region that exists"
    if role not in {r.value for r in Role}:
        errors["role"] = f"Role must be one of: {', '.join(r.value for r in Role)}"
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        role=Role(role),
        region_id=region_id,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # the same email, taken by a parallel transaction since we looked
        session.rollback()
        raise ValidationFailed({"email": DUPLICATE_EMAIL}) from None
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=user.id,
        region_id=region_id,
        detail={"role": str(user.role)},
    )
    session.flush()
    return user


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    client: str = "unknown",
    now: dt.datetime | None = None,
) -> User:
    """The active user with this email and password, or SignInFailed / SignInThrottled.

    ``client`` is the caller's address (see peermatch/throttle.py). Unknown emails and wrong
    passwords fail alike: same error, same throttling, same argon2 time. Failures are
    committed before raising: the caller's transaction is about to be rolled back by the
    exception, and a forgotten failure would make the throttle useless.
    """
    now = now or utcnow()
    email = email_address.normalise(email)
    client_key, pair_key = throttle.keys(email, client)
    if wait := throttle.wait_seconds(session, (client_key, pair_key), now):
        raise SignInThrottled(wait)
    password = password[: MAX_PASSWORD_LENGTH + 1]  # longer cannot match; never hash a megabyte
    user = None
    if email_address.is_valid(email):  # never queries with NUL or other junk in the address
        user = find_user_by_email(session, email)
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        _remember_failure(session, None, (client_key, pair_key), now)
        raise SignInFailed()
    if not verify_password(user.password_hash, password):
        _remember_failure(session, user, (client_key, pair_key), now)
        raise SignInFailed()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    throttle.clear(session, pair_key)
    audit.record(
        session,
        actor=f"user:{user.id}",
        action="user.sign_in",
        entity="user",
        entity_id=user.id,
        region_id=user.region_id,
    )
    session.flush()
    return user


def _remember_failure(
    session: Session, user: User | None, keys: tuple[str, str], now: dt.datetime
) -> None:
    throttle.record_failure(session, keys, now)
    if user is not None:
        audit.record(
            session,
            actor="anonymous",
            action="user.sign_in_failed",
            entity="user",
            entity_id=user.id,
            region_id=user.region_id,
        )
    session.commit()


# --- API keys --------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _split_key(presented: str) -> tuple[str, str] | None:
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def create_api_key(
    session: Session,
    *,
    partnership_id: int,
    name: str,
    actor: str,
    expires_in_days: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for a partnership, and its plaintext, which is shown once and never stored.
    With ``expires_in_days`` the key stops working that many days from now."""
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_API_KEY_DAYS:
        raise ValidationFailed(
            {"expires_in_days": f"A key can last from 1 to {MAX_API_KEY_DAYS} days"}
        )
    partnership = session.get(Partnership, partnership_id)
    if partnership is None:
        raise NotFound("No such partnership")
    if not name.strip():
        raise ValidationFailed({"name": "Enter a name for the key"})
    if problem := text.text_problem(name.strip(), "Name", max_length=120):
        raise ValidationFailed({"name": problem})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = now or utcnow()
    key = ApiKey(
        partnership_id=partnership_id,
        name=name.strip(),
        prefix=prefix,
        key_hash=_digest(secret),
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="apikey.create",
        entity="apikey",
        entity_id=key.id,
        region_id=partnership.region_id,
        detail={
            "partnership_id": partnership_id,
            "prefix": prefix,
            "expires_in_days": expires_in_days,
        },
    )
    session.flush()
    return key, f"{API_KEY_SCHEME}_{prefix}_{secret}"


def revoke_api_key(session: Session, prefix: str, *, actor: str) -> ApiKey:
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix.strip())).first()
    if key is None:
        raise NotFound("No API key has that prefix")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        partnership = session.get(Partnership, key.partnership_id)
        audit.record(
            session,
            actor=actor,
            action="apikey.revoke",
            entity="apikey",
            entity_id=key.id,
            region_id=partnership.region_id if partnership else None,
            detail={"prefix": key.prefix},
        )
        session.flush()
    return key


class ApiKeyRejected(DomainError):
    """A presented API key is not (or no longer) valid. ``reason`` is for the log only, never
    for the caller: "malformed", "unknown", "revoked", "expired" or "mismatch"."""

    def __init__(self, reason: str, prefix: str | None = None) -> None:
        super().__init__("The API key is not valid")
        self.reason = reason
        self.prefix = prefix


def verify_api_key(session: Session, presented: str, *, now: dt.datetime | None = None) -> ApiKey:
    """The live key matching ``presented``, or ApiKeyRejected. The secret's digest is compared
    in constant time, and an unknown prefix costs the same comparison as a known one."""
    now = now or utcnow()
    parts = _split_key(presented)
    if parts is None:
        raise ApiKeyRejected("malformed")
    prefix, secret = parts
    if len(prefix) > 16 or len(secret) > 128:
        raise ApiKeyRejected("malformed")
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    matches = hmac.compare_digest(key.key_hash if key else _UNKNOWN_DIGEST, _digest(secret))
    if key is None:
        raise ApiKeyRejected("unknown")
    if not matches:
        raise ApiKeyRejected("mismatch", prefix)
    if key.revoked_at is not None:
        raise ApiKeyRejected("revoked", prefix)
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiKeyRejected("expired", prefix)
    key.last_used_at = now
    session.add(key)
    session.flush()
    return key


def find_api_key(session: Session, presented: str) -> ApiKey | None:
    """The live key matching ``presented``, or None."""
    try:
        return verify_api_key(session, presented)
    except ApiKeyRejected:
        return None
