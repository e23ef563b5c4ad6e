"""The guards behind "each job runs exactly once": arq's job id, the claim in the database, the
release of a cancelled run, and the recovery of jobs the queue lost."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from backend.core.resources import Resources
from backend.jobs.callbacks import CallbackSender
from backend.jobs.executor import JobExecutor, RunLater, recover_orphans
from backend.jobs.models import Job
from tests.conftest import AUTH, AppFactory, app_of
from tests.jobs.conftest import JOB_SETTINGS, drain, settings_of
from tests.support.fake_llm import FakeLLM

TEXT = "The council approved the new mobility plan yesterday. Traffic will drop."


def resources_of(client: httpx.AsyncClient) -> Resources:
    resources: Resources = app_of(client).state.resources
    return resources


def executor(client: httpx.AsyncClient, name: str) -> JobExecutor:
    return JobExecutor(resources_of(client), CallbackSender(settings_of(client)), name)


async def submit(client: httpx.AsyncClient) -> uuid.UUID:
    body = {"task": "summarize", "text": TEXT}
    response = await client.post("/v1/jobs", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["job_id"])


async def job_row(client: httpx.AsyncClient, job_id: uuid.UUID) -> Job:
    async with resources_of(client).sessionmaker() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


async def test_queue_refuses_a_second_copy_of_a_job(make_client: AppFactory) -> None:
    async with make_client(**JOB_SETTINGS) as client:
        job_id = await submit(client)
        queue = resources_of(client).jobs
        assert queue is not None
        assert await queue.enqueue(job_id) is False
        assert await queue.depth() == 1


async def test_two_concurrent_runs_of_one_job_call_the_llm_once(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.latency = 0.3
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client)
        first, second = executor(client, "w1"), executor(client, "w2")
        outcomes = await asyncio.gather(
            first.run(job_id), second.run(job_id), return_exceptions=True
        )
        # One run claimed the row; the other found it running under a live lease.
        assert sum(isinstance(o, RunLater) for o in outcomes) == 1
        assert sum(o is None for o in outcomes) == 1
        job = await job_row(client, job_id)
        assert job.status == "succeeded" and job.runs == 1
        # A late duplicate of a finished job does nothing.
        await second.run(job_id)
        assert (await job_row(client, job_id)).runs == 1
        assert fake_llm.calls == 1


async def test_cancelled_run_hands_the_job_back(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    fake_llm.latency = 2  # the run is inside the LLM call when the shutdown comes
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client)
        run = asyncio.create_task(executor(client, "w1").run(job_id))
        for _ in range(1000):  # until the run is inside the LLM call
            if fake_llm.calls:
                break
            await asyncio.sleep(0.01)
        running = await job_row(client, job_id)
        assert running.status == "running" and running.worker == "w1"
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        released = await job_row(client, job_id)
        assert released.status == "queued" and released.run_token is None and released.runs == 1

        fake_llm.latency = 0
        await executor(client, "w2").run(job_id)
        done = await job_row(client, job_id)
        assert done.status == "succeeded" and done.runs == 2 and done.worker == "w2"


async def test_expired_lease_lets_another_worker_take_over(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client)
        # A worker claimed the job and died (SIGKILL): the row stays running, its lease runs out.
        async with resources_of(client).sessionmaker() as session, session.begin():
            job = await session.get(Job, job_id)
            assert job is not None
            job.status, job.worker, job.run_token, job.runs = "running", "dead", "t", 1
            job.locked_until = job.created_at
        await executor(client, "w2").run(job_id)
        done = await job_row(client, job_id)
        assert done.status == "succeeded" and done.runs == 2 and done.worker == "w2"


async def test_jobs_lost_by_the_queue_are_recovered(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client)
        resources = resources_of(client)
        assert resources.redis is not None and resources.jobs is not None
        # Redis lost the queue (flush, failover without persistence...).
        await resources.redis.delete(resources.jobs.name, f"arq:job:{job_id}")
        assert await resources.jobs.depth() == 0
        assert await recover_orphans(resources) == 1
        assert await recover_orphans(resources) == 0  # arq holds it now: no duplicate
        await drain(client)
        assert (await job_row(client, job_id)).status == "succeeded"
        assert fake_llm.calls == 1


async def test_run_cancelled_while_claiming_leaves_no_stuck_job(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client)
        engine = resources_of(client).engine.sync_engine
        claimed = False

        def note_claim(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            nonlocal claimed
            claimed = claimed or statement.startswith("UPDATE jobs SET status")

        def cancel_at_commit(_conn: Any) -> None:
            # The shutdown lands while the claim's COMMIT is on its way to the server.
            if claimed and not run.done():
                run.cancel()

        run = asyncio.create_task(executor(client, "w1").run(job_id))
        event.listen(engine, "after_cursor_execute", note_claim)
        event.listen(engine, "commit", cancel_at_commit)
        try:
            with pytest.raises(asyncio.CancelledError):
                await run
        finally:
            event.remove(engine, "after_cursor_execute", note_claim)
            event.remove(engine, "commit", cancel_at_commit)
        assert claimed
        job = await job_row(client, job_id)
        # Claimed and handed straight back, not `running` under a lease nobody holds.
        assert job.status == "queued" and job.run_token is None and job.locked_until is None
        await executor(client, "w2").run(job_id)  # no RunLater: nothing holds the job
        assert (await job_row(client, job_id)).status == "succeeded"
        assert fake_llm.calls == 1
