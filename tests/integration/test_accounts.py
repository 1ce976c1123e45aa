"""Accounts: password hashing, sign-in throttling, API keys."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from peermatch import accounts
from peermatch.accounts import SignInFailed, SignInThrottled
from peermatch.errors import NotFound, ValidationFailed
from peermatch.models import ApiKey, AuditEvent, User, utcnow

PASSWORD = "correct horse battery staple"  # alice's, from conftest


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


def test_it_throttles_after_five_consecutive_failures(session, alice):
    now = utcnow()
    for _ in range(5):
        with pytest.raises(SignInFailed):
            accounts.authenticate(session, "alice@example.org", "wrong password!", now=now)
    with pytest.raises(SignInThrottled) as caught:
        accounts.authenticate(session, "alice@example.org", PASSWORD, now=now)
    assert 14 * 60 < caught.value.retry_after_seconds <= 15 * 60
    later = now + dt.timedelta(minutes=16)
    assert accounts.authenticate(session, "alice@example.org", PASSWORD, now=later).id == alice.id


def test_the_failure_count_survives_the_callers_rollback(session, alice):
    with pytest.raises(SignInFailed):
        accounts.authenticate(session, "alice@example.org", "wrong password!")
    session.rollback()
    assert session.get(User, alice.id).failed_sign_ins == 1


def test_a_success_resets_the_failure_count(session, alice):
    for _ in range(4):
        with pytest.raises(SignInFailed):
            accounts.authenticate(session, "alice@example.org", "wrong password!")
    accounts.authenticate(session, "alice@example.org", PASSWORD)
    for _ in range(4):
        with pytest.raises(SignInFailed):
            accounts.authenticate(session, "alice@example.org", "wrong password!")
    assert accounts.authenticate(session, "alice@example.org", PASSWORD).failed_sign_ins == 0


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
