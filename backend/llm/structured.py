"""JSON answers that match a pydantic model: ask with the schema, validate, repair once.

How the schema is asked for depends on LLM_STRUCTURED_OUTPUT, because providers differ:
- json_schema: OpenAI's `response_format={"type": "json_schema", ...}` (vLLM and recent Ollama
  accept it too). `strict` stays off: pydantic schemas have optional fields and defaults, which
  OpenAI's strict mode rejects; validation happens here instead.
- json_object: `response_format={"type": "json_object"}`, with the schema in the prompt.
- off: the schema in the prompt only, for servers that reject `response_format`.

Whatever the mode, the answer is validated with pydantic. When it is not valid, the model gets one
chance to fix it (its answer and the validation error go back to it); after that, LLMBadOutput
(502 `llm_bad_output`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from backend.llm.schemas import ChatMessage, LLMClient
from backend.tasks.base import LLMBadOutput

T = TypeVar("T", bound=BaseModel)
Mode = Literal["json_schema", "json_object", "off"]

REPAIR_ERRORS_SHOWN = 8


class StructuredOutputError(Exception):
    """The answer is not a valid instance of the model (carries a short, model-facing reason)."""

    def __init__(self, reason: str, errors: list[str]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


def schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The `json_schema` member of OpenAI's response_format."""
    return {"name": name, "schema": schema, "strict": False}


def schema_instruction(schema: dict[str, Any]) -> str:
    return (
        "Answer with one JSON object only (no prose, no code fences) that matches this JSON "
        f"schema: {json.dumps(schema, ensure_ascii=False, separators=(',', ':'))}"
    )


def first_json_object(raw: str) -> Any:
    """The JSON object in an answer; models like to wrap it in prose or ``` fences."""
    text = raw.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        raise StructuredOutputError("The answer contains no JSON object.", [])
    try:
        return json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise StructuredOutputError(f"The answer is not valid JSON: {exc.msg}.", []) from exc


def validate_answer(raw: str, model: type[T], check: Callable[[T], T] | None = None) -> T:
    """Parse and validate one answer; `check` adds task rules (raise ValueError to reject)."""
    data = first_json_object(raw)
    if not isinstance(data, dict):
        raise StructuredOutputError("The answer is JSON but not an object.", [])
    try:
        value = model.model_validate(data)
    except ValidationError as exc:
        errors = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()][
            :REPAIR_ERRORS_SHOWN
        ]
        raise StructuredOutputError("The JSON does not match the schema.", errors) from exc
    if check is not None:
        try:
            value = check(value)
        except ValueError as exc:
            raise StructuredOutputError("The JSON breaks a rule of the task.", [str(exc)]) from exc
    return value


def _repair_message(error: StructuredOutputError) -> ChatMessage:
    problems = "".join(f"\n- {e}" for e in error.errors)
    return {
        "role": "user",
        "content": (
            f"Your previous answer could not be used. {error.reason}{problems}\n"
            "Answer again with the corrected JSON object only, matching the schema."
        ),
    }


async def complete_structured(
    llm: LLMClient,
    messages: list[ChatMessage],
    model: type[T],
    *,
    name: str,
    mode: Mode,
    schema: dict[str, Any] | None = None,
    check: Callable[[T], T] | None = None,
    max_tokens: int | None = None,
) -> T:
    """Ask for a `model` instance, repairing a bad answer once; raises LLMBadOutput after that."""
    schema = schema or model.model_json_schema()
    asked = list(messages)
    if mode != "json_schema":
        # The system message (first) carries the instructions; the schema joins them.
        first = asked[0]
        asked[0] = {
            "role": first["role"],
            "content": f"{first['content']}\n{schema_instruction(schema)}",
        }
    kwargs: dict[str, Any] = {"max_tokens": max_tokens}
    if mode == "json_schema":
        kwargs["json_schema"] = schema_format(name, schema)
    elif mode == "json_object":
        kwargs["json_output"] = True

    completion = await llm.complete(asked, **kwargs)
    try:
        return validate_answer(completion.text, model, check)
    except StructuredOutputError as first_error:
        repair: list[ChatMessage] = [
            *asked,
            {"role": "assistant", "content": completion.text},
            _repair_message(first_error),
        ]
        second = await llm.complete(repair, **kwargs)
        try:
            return validate_answer(second.text, model, check)
        except StructuredOutputError as error:
            raise LLMBadOutput(
                "The LLM's answer did not match the task's result schema, even after a repair "
                "attempt.",
                details={"reason": error.reason, "errors": error.errors},
            ) from error
