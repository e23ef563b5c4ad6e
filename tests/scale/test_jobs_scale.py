"""Jobs across processes: two APIs and two `assistant worker`s on one PostgreSQL and one Redis.

Each job runs exactly once; SIGTERM to a worker mid-burst loses no job (it finishes its jobs, or
with no grace period hands them back); SIGTERM to an API mid-burst fails no accepted request.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx

from tests.conftest import AUTH
from tests.scale.cluster import Proc
from tests.scale.conftest import ClusterFactory, rows, submit_job, wait_for
from tests.support.fake_llm import FakeLLM


def text(i: int) -> str:
    # Distinct texts: no cache hit or coalescing can hide a second run.
    return f"Report number {i} says the new bridge opens in spring. Traffic will improve."


async def all_finished(pg_url: str, count: int) -> list[dict[str, Any]] | None:
    jobs = await rows(pg_url, "SELECT * FROM jobs")
    done = [j for j in jobs if j["status"] in ("succeeded", "failed")]
    return jobs if len(jobs) == count and len(done) == count else None


def worker_of(proc: Proc) -> str:
    return f":{proc.pid}"


async def test_each_job_runs_exactly_once_across_two_workers(
    cluster: ClusterFactory, fake_llm: FakeLLM, pg_url: str
) -> None:
    fake_llm.latency = 0.2
    apis, workers = cluster().start()
    count = 24
    async with httpx.AsyncClient(timeout=30) as client:
        ids = await asyncio.gather(
            *(submit_job(client, apis[i % 2].url, text(i)) for i in range(count))
        )
        jobs = await wait_for(lambda: all_finished(pg_url, count), what="all jobs finished")
        # Either API answers for any job: the state is in the database.
        for i, job_id in enumerate(ids):
            view = await client.get(f"{apis[(i + 1) % 2].url}/v1/jobs/{job_id}", headers=AUTH)
            assert view.json()["status"] == "succeeded", view.text
            assert view.json()["runs"] == 1

    assert {j["status"] for j in jobs} == {"succeeded"}
    assert {j["runs"] for j in jobs} == {1}
    assert fake_llm.calls == count
    history = await rows(pg_url, "SELECT id FROM history")
    assert len(history) == count
    assert {str(h["id"]) for h in history} == {j["result"]["id"] for j in _decoded(jobs)}
    # Both workers took a share.
    by_worker = {j["worker"] for j in jobs}
    assert any(w.endswith(worker_of(workers[0])) for w in by_worker)
    assert any(w.endswith(worker_of(workers[1])) for w in by_worker)


async def test_sigterm_to_a_worker_mid_burst_finishes_its_jobs(
    cluster: ClusterFactory, fake_llm: FakeLLM, pg_url: str
) -> None:
    fake_llm.latency = 0.5
    apis, workers = cluster(JOBS_SHUTDOWN_GRACE=60).start()
    count = 16
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(submit_job(client, apis[i % 2].url, text(i)) for i in range(count)))
        doomed = workers[0]
        held = await wait_for(lambda: running_on(pg_url, doomed), what="a job on worker1")
        doomed.sigterm()
        assert doomed.wait() == 0, doomed.output()[-3000:]
        jobs = await wait_for(lambda: all_finished(pg_url, count), what="all jobs finished")

    assert {j["status"] for j in jobs} == {"succeeded"}
    # The jobs worker1 held when told to stop were finished by worker1, not re-run elsewhere.
    finished_by = {str(j["id"]): j["worker"] for j in jobs}
    assert all(finished_by[job_id].endswith(worker_of(doomed)) for job_id in held)
    assert {j["runs"] for j in jobs} == {1}
    assert fake_llm.calls == count
    assert len(await rows(pg_url, "SELECT id FROM history")) == count


async def test_sigterm_without_grace_hands_jobs_to_the_other_worker(
    cluster: ClusterFactory, fake_llm: FakeLLM, pg_url: str
) -> None:
    # Long enough that a job seen running is still inside its LLM call when the signal lands.
    fake_llm.latency = 5.0
    apis, workers = cluster(JOBS_SHUTDOWN_GRACE=0).start()
    count = 12
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(submit_job(client, apis[i % 2].url, text(i)) for i in range(count)))
        doomed = workers[0]
        held = await wait_for(lambda: running_on(pg_url, doomed), what="a job on worker1")
        doomed.sigterm()
        assert doomed.wait() == 0, doomed.output()[-3000:]
        jobs = await wait_for(lambda: all_finished(pg_url, count), what="all jobs finished")

    assert {j["status"] for j in jobs} == {"succeeded"}
    by_id = {str(j["id"]): j for j in jobs}
    # Jobs cancelled on worker1 went back on the queue and worker2 ran them to the end.
    requeued = [j for j in jobs if j["runs"] == 2]
    assert requeued, "no job was handed back"
    assert all(j["worker"].endswith(worker_of(workers[1])) for j in requeued)
    assert {j["runs"] for j in jobs} <= {1, 2}
    for job_id in held:
        # Held by worker1 at the signal: handed back, or (if it was already finishing) finished
        # there; either way exactly one run completed it.
        job = by_id[job_id]
        assert job["runs"] == 2 or job["worker"].endswith(worker_of(doomed)), job
    # Only an interrupted run can have cost an extra upstream call (if it got that far).
    assert count <= fake_llm.calls <= count + sum(j["runs"] - 1 for j in jobs)
    assert len(await rows(pg_url, "SELECT id FROM history")) == count


async def test_sigterm_to_an_api_mid_burst_fails_no_accepted_request(
    cluster: ClusterFactory, fake_llm: FakeLLM, pg_url: str
) -> None:
    fake_llm.latency = 1.0
    (doomed, other), _ = cluster().start(apis=2, workers=1)
    count = 8
    async with httpx.AsyncClient(timeout=60) as client:
        job_ids = [await submit_job(client, doomed.url, text(100 + i)) for i in range(4)]
        calls_before = fake_llm.calls
        burst = [
            asyncio.create_task(
                client.post(
                    f"{doomed.url}/v1/tasks/summarize", json={"text": text(i)}, headers=AUTH
                )
            )
            for i in range(count)
        ]
        # Every request reached the upstream: all of them are accepted and in flight.
        await wait_for(lambda: _at_least(fake_llm, calls_before + count), what="requests in flight")
        doomed.sigterm()
        responses = await asyncio.gather(*burst)
        assert [r.status_code for r in responses] == [200] * count
        # uvicorn shuts down cleanly, then re-raises the signal: "killed by SIGTERM" is its normal
        # exit. A crash would be another code.
        assert doomed.wait() in (0, -signal.SIGTERM), doomed.output()[-3000:]
        assert "Application shutdown complete" in doomed.output()
        # The other replica keeps serving, and the jobs accepted by the stopped one still run.
        again = await client.post(
            f"{other.url}/v1/tasks/summarize", json={"text": text(99)}, headers=AUTH
        )
        assert again.status_code == 200

        async def jobs_done() -> bool:
            views = [
                (await client.get(f"{other.url}/v1/jobs/{j}", headers=AUTH)).json() for j in job_ids
            ]
            return all(v["status"] == "succeeded" for v in views)

        await wait_for(jobs_done, what="jobs accepted by the stopped API")


async def running_on(pg_url: str, proc: Proc) -> list[str]:
    jobs = await rows(pg_url, "SELECT id, worker FROM jobs WHERE status = 'running'")
    return [str(j["id"]) for j in jobs if (j["worker"] or "").endswith(worker_of(proc))]


async def _at_least(fake_llm: FakeLLM, calls: int) -> bool:
    return fake_llm.calls >= calls


def _decoded(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import json

    return [{**j, "result": json.loads(j["result"])} for j in jobs]
