"""Schemathesis against the served schema: generated calls (valid and invalid) to every API
operation, authenticated with a real key; no server error, no response breaking the schema."""

from __future__ import annotations

from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NOT_SET
from sqlalchemy.engine import Engine
from sqlmodel import Session

from peermatch import accounts
from peermatch.models import Partnership
from peermatch.settings import Settings
from peermatch.web import create_app

EXAMPLES = 30  # per operation and mode: about a minute for the whole run
# A body the schema allows may still break a rule it cannot express: a window that ends before
# it starts, a reference or email address already taken, an accreditation in the future. Those
# are refused with 422 and a pointer, and so 422 is an accepted answer to schema-valid data.
# An invalid body may also be refused for its size alone (413, over 64 KiB).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "404", "409", "422", "429"]
            },
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "404", "405", "409", "413", "415", "422", "429"]
            },
        }
    }
)


@pytest.fixture
def api_app(settings: Settings, engine: Engine) -> Litestar:
    # Generous limits: the run is about the contract, the limits have their own tests.
    return create_app(replace(settings, api_rate_limit=100_000, api_auth_failures=100_000), engine)


@pytest.fixture
def api_key(session: Session, partnership_a: Partnership) -> str:
    _, plaintext = accounts.create_api_key(
        session, partnership_id=partnership_a.id, name="schemathesis", actor="test"
    )
    session.commit()
    return plaintext


@pytest.fixture
def api_schema(api_app: Litestar) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", api_app, config=CONFIG)
    return schema.include(path_regex="^/api/v1/")


# Schemathesis' own pytest plumbing (``from_fixture``) does not run on pytest 9 yet, so the
# operations are walked here with its Python API, each under Hypothesis.
@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_schema(api_schema, api_key, mode):
    headers = {"Authorization": f"Bearer {api_key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 10  # GET /api/v1/organisations is the tenth
    if mode == GenerationMode.NEGATIVE:
        # Invalid bodies are where the strictness matters. (Invalid query strings are tested by
        # hand in test_api_errors.py: generated ones often serialise into valid URLs, such as
        # "?active=null", and are then reported as wrongly accepted.)
        operations = [op for op in operations if op.method.upper() in ("POST", "PATCH")]
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers)

        check()


def _content_type(response) -> str:
    value = response.headers.get("content-type", "")
    return str(value[0] if isinstance(value, list) and value else value)


QUICK_EXAMPLES = 10  # per write operation: a few seconds, so it runs with every test run


def test_negative_bodies_to_every_write_are_refused_with_problems(api_schema, api_key):
    """Schemathesis' invalid data to every POST and PATCH, each sent twice: as generated (a
    4xx problem, never a 5xx), and as text/plain (415: the body is JSON only when it says so).
    Bounded, so it stays quick; the slow test above runs more examples."""
    headers = {"Authorization": f"Bearer {api_key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    writes = [op for op in operations if op.method.upper() in ("POST", "PATCH")]
    assert len(writes) == 4
    seen = {"generated": 0, "as text": 0}
    for operation in writes:

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(
            max_examples=QUICK_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.generate],
        )
        def check(case: schemathesis.Case) -> None:
            # Schemathesis judges the answer (negative_data_rejection, above); an invalid body
            # is never a server error, and every refusal is a problem.
            response = case.call_and_validate(headers=headers)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert _content_type(response).startswith("application/problem+json")
            seen["generated"] += 1
            if case.body is NOT_SET or case.body is None:
                return
            plain = case.call(headers={**headers, "Content-Type": "text/plain"})
            # A generated key header that is not valid, a path naming no route, or a body over
            # the operation's size limit is refused before the body's type is looked at; any
            # other call that gets as far as the body is a 415.
            if plain.request.body and plain.status_code not in {401, 404, 405, 413}:
                assert plain.status_code == 415, plain.text
                assert _content_type(plain).startswith("application/problem+json")
                seen["as text"] += 1

        check()
    assert seen["generated"] >= len(writes)
    assert seen["as text"] >= 1
