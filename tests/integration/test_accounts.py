"""Accounts: password hashing, sign-in throttling, API keys."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from peermatch import accounts, throttle
from peermatch.accounts import SignInFailed, SignInThrottled
from peermatch.errors import NotFound, ValidationFailed
from peermatch.models import ApiKey, AuditEvent, SignInThrottle, utcnow

PASSWORD = "correct horse battery staple"  # alice's, from conftest


@pytest.mark.real_password_cost
def test_it_hashes_with_argon2_and_verifies():
    hashed = accounts.hash_password("a long enough password")
    assert hashed.startswith("$argon2")
    assert accounts.verify_password(hashed, "a long enough password")
    assert not accounts.verify_password(hashed, "a wrong password!!")
    assert not accounts.verify_password("not a hash", "anything at all")


def test_it_creates_a_user_with_a_normalised_email(session, region_a):
    user = accounts.create_user(
        session,
        email="  Carol@Example.ORG ",
        name="Carol",
        password=PASSWORD,
        region_id=region_a.id,
    )
    assert user.email == "carol@example.org"
    assert user.password_hash != PASSWORD
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "user.create")).all()
    assert len(events) == 1 and "carol" not in str(events[0].detail).lower()


def test_it_rejects_a_duplicate_email_a_short_password_and_an_unknown_region(session, alice):
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(
            session,
            email="ALICE@example.org",
            name="",
            password="short",
            region_id=9999,
            role="overlord",
        )
    assert set(caught.value.errors) == {"email", "name", "password", "region_id", "role"}


def test_it_signs_in_with_the_right_password_case_insensitively(session, alice):
    assert accounts.authenticate(session, "Alice@Example.org", PASSWORD).id == alice.id


def test_it_fails_the_same_way_for_unknown_email_and_wrong_password(session, alice):
    with pytest.raises(SignInFailed) as unknown:
        accounts.authenticate(session, "nobody@example.org", PASSWORD)
    with pytest.raises(SignInFailed) as wrong:
        accounts.authenticate(session, "alice@example.org", "wrong password here")
    assert str(unknown.value) == str(wrong.value)


def test_it_refuses_an_inactive_user(session, alice):
    alice.active = False
    session.commit()
    with pytest.raises(SignInFailed):
        accounts.authenticate(session, "alice@example.org", PASSWORD)


ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def _fail(session, email: str, now, client: str = ATTACKER) -> type[Exception]:
    try:
        accounts.authenticate(session, email, "wrong password!", client=client, now=now)
    except (SignInFailed, SignInThrottled) as exc:
        return type(exc)
    raise AssertionError("a wrong password was accepted")


def test_it_slows_guessing_with_growing_delays_after_three_failures(session, alice):
    now = utcnow()
    for _ in range(3):
        assert _fail(session, "alice@example.org", now) is SignInFailed
    assert _fail(session, "alice@example.org", now) is SignInFailed  # the 4th: a 5 s block
    with pytest.raises(SignInThrottled) as caught:
        accounts.authenticate(session, "alice@example.org", PASSWORD, client=ATTACKER, now=now)
    assert caught.value.retry_after_seconds == 5
    now += dt.timedelta(seconds=5)
    assert _fail(session, "alice@example.org", now) is SignInFailed  # the 5th: 10 s
    with pytest.raises(SignInThrottled) as caught:
        accounts.authenticate(session, "alice@example.org", PASSWORD, client=ATTACKER, now=now)
    assert caught.value.retry_after_seconds == 10


def test_an_attacker_never_locks_the_owner_out(session, alice):
    now = utcnow()
    for _ in range(60):  # an hour of hammering, waiting out every block
        _fail(session, "alice@example.org", now)
        now += dt.timedelta(minutes=1)
    user = accounts.authenticate(session, "alice@example.org", PASSWORD, client=OWNER, now=now)
    assert user.id == alice.id


def test_a_block_never_outlasts_fifteen_minutes_after_the_last_counted_failure(session, alice):
    now = utcnow()
    for _ in range(40):
        _fail(session, "alice@example.org", now)
        row = session.get(SignInThrottle, throttle.keys("alice@example.org", ATTACKER)[1])
        now = max(now, row.blocked_until or now)  # each try lands just as the block ends
    # Tries while blocked do not count, so they cannot stretch the block.
    for _ in range(50):
        assert _fail(session, "alice@example.org", now - dt.timedelta(seconds=1))
    later = now + dt.timedelta(minutes=15)
    user = accounts.authenticate(session, "alice@example.org", PASSWORD, client=ATTACKER, now=later)
    assert user.id == alice.id


def test_unknown_and_known_emails_are_throttled_alike(session, alice):
    now = utcnow()
    outcomes = {}
    for email in ("alice@example.org", "nobody@example.org"):
        results = [_fail(session, email, now, client=f"192.0.2.{len(outcomes)}") for _ in range(5)]
        with pytest.raises(SignInThrottled) as caught:
            accounts.authenticate(
                session, email, "x" * 12, client=f"192.0.2.{len(outcomes)}", now=now
            )
        outcomes[email] = (results, str(caught.value), caught.value.retry_after_seconds)
    assert outcomes["alice@example.org"] == outcomes["nobody@example.org"]


def test_one_client_trying_many_accounts_is_slowed(session, alice):
    now = utcnow()
    for i in range(20):
        assert _fail(session, f"user{i}@example.org", now) is SignInFailed
    assert _fail(session, "alice@example.org", now) is SignInFailed  # the 21st failure
    with pytest.raises(SignInThrottled):
        accounts.authenticate(session, "alice@example.org", PASSWORD, client=ATTACKER, now=now)
    assert accounts.authenticate(session, "alice@example.org", PASSWORD, client=OWNER, now=now)


def test_the_failure_count_survives_the_callers_rollback(session, alice):
    _fail(session, "alice@example.org", utcnow())
    session.rollback()
    assert (
        session.get(SignInThrottle, throttle.keys("alice@example.org", ATTACKER)[1]).failures == 1
    )


def test_a_success_clears_the_count_for_that_email_and_client(session, alice):
    now = utcnow()
    for _ in range(3):
        _fail(session, "alice@example.org", now)
    accounts.authenticate(session, "alice@example.org", PASSWORD, client=ATTACKER, now=now)
    assert session.get(SignInThrottle, throttle.keys("alice@example.org", ATTACKER)[1]) is None
    for _ in range(3):
        assert _fail(session, "alice@example.org", now) is SignInFailed


def test_a_nul_byte_in_the_email_fails_like_any_wrong_detail(session, alice):
    with pytest.raises(SignInFailed):
        accounts.authenticate(session, "alice@example.org\x00", PASSWORD, client=OWNER)


def test_it_issues_an_api_key_and_stores_only_its_hash(session, partnership_a):
    key, plaintext = accounts.create_api_key(
        session, partnership_id=partnership_a.id, name="Case system", actor="cli"
    )
    assert plaintext.startswith(f"pm_{key.prefix}_")
    stored = session.exec(select(ApiKey)).one()
    assert plaintext.split("_", 2)[2] not in stored.key_hash
    assert accounts.find_api_key(session, plaintext).id == key.id


def test_it_matches_no_wrong_malformed_or_revoked_key(session, partnership_a):
    key, plaintext = accounts.create_api_key(
        session, partnership_id=partnership_a.id, name="Case system", actor="cli"
    )
    assert accounts.find_api_key(session, plaintext + "x") is None
    assert accounts.find_api_key(session, "garbage") is None
    assert accounts.find_api_key(session, f"pm_{key.prefix}_") is None
    accounts.revoke_api_key(session, key.prefix, actor="cli")
    assert accounts.find_api_key(session, plaintext) is None
    actions = session.exec(select(AuditEvent.action)).all()
    assert "apikey.create" in actions and "apikey.revoke" in actions


def test_it_refuses_a_key_for_an_unknown_partnership_or_revoking_an_unknown_prefix(session):
    with pytest.raises(NotFound):
        accounts.create_api_key(session, partnership_id=999, name="x", actor="cli")
    with pytest.raises(NotFound):
        accounts.revoke_api_key(session, "nope", actor="cli")
