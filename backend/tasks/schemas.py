"""Request/response models. Each task gets its own typed pair, so OpenAPI documents every task."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from backend.core.types import NON_BLANK, ChatId
from backend.tasks.base import Task
from backend.tasks.service import TaskOutcome

CHAT_ID_DOC = "Chat (e.g. Telegram chat id) the text belongs to; used by history and chat modes."


class UsageOut(BaseModel):
    prompt_tokens: int | None
    completion_tokens: int | None


class TaskResponseBase(BaseModel):
    id: uuid.UUID
    task: str
    output: str = Field(description="Plain-text rendering of the result.")
    language: str | None = Field(description="ISO 639-1 code of the text's detected language.")
    model: str = Field(description="The model that answered, or 'offline'.")
    cached: bool = Field(description="Served from the cache.")
    coalesced: bool = Field(
        default=False, description="Answered by an identical request that was already running."
    )
    degraded: bool = Field(
        description="The LLM failed and the built-in offline engine answered (model 'offline')."
    )
    usage: UsageOut | None
    cost_usd: float | None = Field(
        default=None, description="Estimated cost of this request's LLM calls (LLM_PRICES)."
    )
    duration_ms: int


class GenericTaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, pattern=NON_BLANK)
    chat_id: ChatId | None = Field(default=None, description=CHAT_ID_DOC)
    options: dict[str, Any] = Field(default_factory=dict)


class TaskInfo(BaseModel):
    name: str
    aliases: list[str]
    title: str
    description: str
    offline: bool = Field(description="Whether the built-in engine can answer without an LLM.")
    options_schema: dict[str, Any]
    result_schema: dict[str, Any]


def request_model(task: Task[Any, Any]) -> type[BaseModel]:
    camel = task.name.title().replace("_", "")
    return create_model(
        f"{camel}Request",
        __config__=ConfigDict(extra="forbid"),
        text=(str, Field(min_length=1, pattern=NON_BLANK, description="The text to process.")),
        chat_id=(ChatId | None, Field(default=None, description=CHAT_ID_DOC)),
        options=(task.options_model, Field(default_factory=task.options_model)),
    )


def response_model(task: Task[Any, Any]) -> type[TaskResponseBase]:
    camel = task.name.title().replace("_", "")
    return create_model(
        f"{camel}Response", __base__=TaskResponseBase, result=(task.result_model, ...)
    )


def outcome_to_dict(outcome: TaskOutcome) -> dict[str, Any]:
    usage = outcome.usage
    return {
        "id": str(outcome.id),
        "task": outcome.task,
        "result": outcome.result.model_dump(mode="json"),
        "output": outcome.output,
        "language": outcome.language,
        "model": outcome.model,
        "cached": outcome.cached,
        "coalesced": outcome.coalesced,
        "degraded": outcome.degraded,
        "usage": (
            {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
            if usage
            else None
        ),
        "cost_usd": outcome.cost_usd,
        "duration_ms": outcome.duration_ms,
    }


def task_info(task: Task[Any, Any]) -> TaskInfo:
    return TaskInfo(
        name=task.name,
        aliases=list(task.aliases),
        title=task.title or task.name,
        description=task.description,
        offline=task.has_offline,
        options_schema=task.options_model.model_json_schema(),
        result_schema=task.result_model.model_json_schema(),
    )
