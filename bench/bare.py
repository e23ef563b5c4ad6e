"""The baseline: a bare FastAPI endpoint that does one Redis GET and returns JSON."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    await app.state.redis.set("bench:bare", '{"summary": "cached"}')
    yield
    await app.state.redis.aclose()


app = FastAPI(lifespan=lifespan)


@app.post("/bare")
async def bare() -> dict[str, object]:
    value = await app.state.redis.get("bench:bare")
    return {"result": value.decode() if value else None}
