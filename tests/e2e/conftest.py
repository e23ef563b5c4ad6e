"""End-to-end fixtures: one real stack (service, worker, fake LLM, fake Telegram, n8n) a module."""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.conftest import API_KEY, REDIS_URL, _truncate
from tests.e2e.stack import Stack, running_stack
from tests.support.fake_llm import FakeLLM

HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end tests that start external programs (n8n)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # Lets the fixture below see whether the test failed.
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="module")
def n8n_stack(
    pg_url: str, fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    asyncio.run(_truncate(pg_url))
    fake_llm_server.reset()
    home = tmp_path_factory.mktemp("e2e")
    with running_stack(
        database_url=pg_url, redis_url=REDIS_URL, api_key=API_KEY, llm=fake_llm_server, home=home
    ) as stack:
        yield stack
    asyncio.run(_truncate(pg_url))


@pytest.fixture(autouse=True)
def n8n_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failing test prints n8n's log (shown under "Captured stdout teardown")."""
    yield
    if "n8n_stack" in request.fixturenames and request.node.stash.get(FAILED, False):
        stack: Stack = request.getfixturevalue("n8n_stack")
        print(f"\n----- n8n log ({stack.n8n.log_path}) -----\n{stack.n8n.logs()}")
