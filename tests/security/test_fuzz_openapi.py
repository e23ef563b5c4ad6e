"""Fuzz the whole OpenAPI schema (authenticated) against the real app on a real port: no 5xx, every
response matches the schema, every error uses the one error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from backend.core.config import Settings
from backend.main import create_app
from tests.conftest import API_KEY, REDIS_URL
from tests.support.fake_llm import FakeLLM
from tests.support.servers import ThreadedServer

MAX_EXAMPLES = 12
# Every response check except "schema-valid input must be accepted": the service rightly refuses
# some schema-valid input (a text over MAX_TEXT_CHARS is a 413, a NUL character a 422).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(scope="module")
def live_api(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory, fake_llm_server: FakeLLM
) -> Iterator[str]:
    # With an LLM configured (the fake), a 5xx can only be our bug, never "no LLM configured".
    app = create_app(
        Settings(
            _env_file=None,
            database_url=pg_url,
            redis_url=REDIS_URL,
            redis_key_prefix="wa-fuzz:",
            api_key=API_KEY,
            data_dir=Path(tmp_path_factory.mktemp("fuzz")),
            environment="test",
            max_text_chars=2000,
            openai_base_url=fake_llm_server.base_url,
            openai_api_key="sk-fuzz",
            # Rate limiting is tested on its own; here it would turn most cases into 429s.
            rate_limit="100000/minute",
        )
    )
    with ThreadedServer(app, lifespan="on") as server:
        yield server.url


def check_error_shape(response: schemathesis.Response) -> None:
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["message"]


def test_api_never_fails_and_keeps_its_contract(live_api: str) -> None:
    # schemathesis' own pytest plugin does not run under pytest 9, so each operation gets a
    # hypothesis test built from its strategy here.
    schema = schemathesis.openapi.from_url(live_api + "/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            response = case.call(headers={"x-api-key": API_KEY})
            case.validate_response(response, checks=CHECKS)
            check_error_shape(response)

        try:
            exercise()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert operations >= 10
    assert not failures, "\n\n".join(failures)
