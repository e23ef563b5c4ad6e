"""The queue depth gauge is read from Redis when Prometheus scrapes an API replica."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.conftest import AUTH, AppFactory
from tests.jobs.conftest import JOB_SETTINGS


async def test_scrape_reads_the_queue_depth(make_client: AppFactory) -> None:
    async with make_client(**JOB_SETTINGS) as client:
        for n in range(3):
            body = {"task": "summarize", "text": f"Texto número {n}. Fin."}
            assert (await client.post("/v1/jobs", json=body, headers=AUTH)).status_code == 202
        # Something else (another replica's worker, say) changed the gauge meanwhile.
        from backend.observability.metrics import JOBS_QUEUE_DEPTH

        JOBS_QUEUE_DEPTH.set(0)
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert REGISTRY.get_sample_value("assistant_jobs_queue_depth") == 3
        assert "assistant_jobs_queue_depth 3.0" in metrics.text
