"""A fake OpenAI-compatible upstream for benchmarks, run as its own process.

LATENCY_S sets how long each completion takes; GET /stats and POST /stats/reset count calls.
"""

from __future__ import annotations

import asyncio
import os
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

LATENCY_S = float(os.environ.get("LATENCY_S", "0"))
_calls = 0


async def completions(request: Request) -> JSONResponse:
    global _calls
    _calls += 1
    body = await request.json()
    if LATENCY_S:
        await asyncio.sleep(LATENCY_S)
    text = str(body["messages"][-1]["content"])[:120]
    return JSONResponse(
        {
            "id": "bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "bench-model"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "Summary: " + text},
                }
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
        }
    )


async def stats(_: Request) -> JSONResponse:
    return JSONResponse({"calls": _calls})


async def reset(_: Request) -> JSONResponse:
    global _calls
    _calls = 0
    return JSONResponse({"calls": 0})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", completions, methods=["POST"]),
        Route("/stats", stats),
        Route("/stats/reset", reset, methods=["POST"]),
    ]
)
