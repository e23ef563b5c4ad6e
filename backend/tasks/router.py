"""`/v1/tasks`: one typed route per registered task, plus the task list."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel

from backend.auth.deps import ApiKeyDep
from backend.core.deps import RegistryDep, RunnerDep
from backend.core.errors import error_body
from backend.tasks.base import Task
from backend.tasks.registry import TaskRegistry
from backend.tasks.schemas import (
    GenericTaskRequest,
    TaskInfo,
    outcome_to_dict,
    request_model,
    response_model,
    task_info,
)

CacheControlHeader = Annotated[
    str | None,
    Header(description="Send `no-cache` to skip the cached answer (the new one is still stored)."),
]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": text,
        "content": {"application/json": {"example": error_body(code, text)}},
    }
    for status, code, text in [
        (401, "unauthorized", "Missing or invalid API key."),
        (404, "unknown_task", "No such task."),
        (413, "text_too_long", "The text is longer than MAX_TEXT_CHARS."),
        (422, "validation_error", "Empty text or invalid options."),
        (429, "llm_rate_limited", "The LLM provider is rate limiting."),
        (502, "llm_error", "The LLM failed or answered badly."),
        (503, "llm_unavailable", "The task needs an LLM and none is configured."),
        (504, "llm_timeout", "The LLM did not answer in time."),
    ]
}


def wants_fresh(cache_control: str | None) -> bool:
    return bool(cache_control) and "no-cache" in (cache_control or "").lower()


def build_router(registry: TaskRegistry) -> APIRouter:
    router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

    @router.get("", response_model=list[TaskInfo], summary="List the available tasks")
    async def list_tasks(_: ApiKeyDep, registry: RegistryDep) -> list[TaskInfo]:
        return [task_info(task) for task in registry]

    for task in registry:
        router.add_api_route(
            f"/{task.name}",
            _task_endpoint(task),
            methods=["POST"],
            response_model=response_model(task),
            summary=task.title or task.name,
            description=task.description,
            responses=ERROR_RESPONSES,
            name=f"run_{task.name}",
        )

    @router.post("/{task}", summary="Run a task by name or alias", responses=ERROR_RESPONSES)
    async def run_any_task(
        task: str,
        body: GenericTaskRequest,
        key: ApiKeyDep,
        registry: RegistryDep,
        runner: RunnerDep,
        cache_control: CacheControlHeader = None,
    ) -> dict[str, Any]:
        found = registry.get(task)
        outcome = await runner.run(
            found,
            body.text,
            found.parse_options(body.options),
            api_key_id=key.id,
            chat_id=body.chat_id,
            read_cache=not wants_fresh(cache_control),
        )
        return outcome_to_dict(outcome)

    return router


def _task_endpoint(task: Task[Any, Any]) -> Any:
    """A route function whose signature carries this task's own request model (for OpenAPI)."""

    async def endpoint(
        body: BaseModel, key: Any, runner: Any, cache_control: str | None = None
    ) -> dict[str, Any]:
        outcome = await runner.run(
            task,
            body.text,  # type: ignore[attr-defined]
            body.options,  # type: ignore[attr-defined]
            api_key_id=key.id,
            chat_id=body.chat_id,  # type: ignore[attr-defined]
            read_cache=not wants_fresh(cache_control),
        )
        return outcome_to_dict(outcome)

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("body", kind, annotation=request_model(task)),
            inspect.Parameter("key", kind, annotation=ApiKeyDep),
            inspect.Parameter("runner", kind, annotation=RunnerDep),
            inspect.Parameter("cache_control", kind, annotation=CacheControlHeader, default=None),
        ]
    )
    endpoint.__name__ = f"run_{task.name}"
    return endpoint
