"""`/v1/tasks`: one typed route per registered task, plus the task list."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel

from backend.auth.deps import ApiKeyDep
from backend.auth.service import AuthenticatedKey
from backend.core.deps import RegistryDep, ResourcesDep
from backend.core.errors import error_body
from backend.core.resources import Resources
from backend.idempotency.deps import IdempotencyKeyHeader, respond_once
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
        (402, "budget_exceeded", "The API key's monthly budget is spent."),
        (404, "unknown_task", "No such task."),
        (409, "idempotency_conflict", "Idempotency-Key reused with a different request."),
        (413, "text_too_long", "The text is longer than MAX_TEXT_CHARS."),
        (422, "validation_error", "Empty text or invalid options."),
        (429, "rate_limited", "Too many requests for this API key (or the LLM's limit)."),
        (502, "llm_error", "The LLM failed or answered badly."),
        (503, "llm_unavailable", "The task needs an LLM and none is available."),
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
        resources: ResourcesDep,
        request: Request,
        response: Response,
        cache_control: CacheControlHeader = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> dict[str, Any]:
        found = registry.get(task)
        options = found.parse_options(body.options)
        return await run_task_request(
            resources,
            request,
            response,
            found,
            key,
            text=body.text,
            options=options,
            chat_id=body.chat_id,
            cache_control=cache_control,
            idempotency_key=idempotency_key,
        )

    return router


async def run_task_request(
    resources: Resources,
    request: Request,
    response: Response,
    task: Task[Any, Any],
    key: AuthenticatedKey,
    *,
    text: str,
    options: BaseModel,
    chat_id: int | None,
    cache_control: str | None,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """One task request through the runner, once per Idempotency-Key."""

    async def compute() -> dict[str, Any]:
        outcome = await resources.runner.run(
            task,
            text,
            options,
            api_key_id=key.id,
            chat_id=chat_id,
            read_cache=not wants_fresh(cache_control),
            budget_usd=key.monthly_budget_usd,
        )
        request.state.cache_outcome = (
            "hit" if outcome.cached else "coalesced" if outcome.coalesced else "miss"
        )
        return outcome_to_dict(outcome)

    body = {"text": text, "chat_id": chat_id, "options": options.model_dump(mode="json")}
    return await respond_once(
        resources,
        response,
        api_key_id=key.id,
        idempotency_key=idempotency_key,
        scope=f"task:{task.name}",
        body=body,
        compute=compute,
    )


def _task_endpoint(task: Task[Any, Any]) -> Any:
    """A route function whose signature carries this task's own request model (for OpenAPI)."""

    async def endpoint(
        body: BaseModel,
        key: AuthenticatedKey,
        resources: Resources,
        request: Request,
        response: Response,
        cache_control: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return await run_task_request(
            resources,
            request,
            response,
            task,
            key,
            text=body.text,  # type: ignore[attr-defined]
            options=body.options,  # type: ignore[attr-defined]
            chat_id=body.chat_id,  # type: ignore[attr-defined]
            cache_control=cache_control,
            idempotency_key=idempotency_key,
        )

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("body", kind, annotation=request_model(task)),
            inspect.Parameter("key", kind, annotation=ApiKeyDep),
            inspect.Parameter("resources", kind, annotation=ResourcesDep),
            inspect.Parameter("request", kind, annotation=Request),
            inspect.Parameter("response", kind, annotation=Response),
            inspect.Parameter("cache_control", kind, annotation=CacheControlHeader, default=None),
            inspect.Parameter(
                "idempotency_key", kind, annotation=IdempotencyKeyHeader, default=None
            ),
        ]
    )
    endpoint.__name__ = f"run_{task.name}"
    return endpoint
