"""Structured outputs: schema in response_format, pydantic validation, one repair, then 502."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import AUTH, AppFactory
from tests.support.fake_llm import FakeLLM

Messages = list[dict[str, Any]]
GOOD = json.dumps({"label": "positive", "score": 0.7, "evidence": ["excelente"]})


def scripted(*answers: str) -> Any:
    """A responder that gives these answers in turn (the last one from then on)."""
    queue = list(answers)

    def respond(messages: Messages, body: dict[str, Any]) -> str:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("Claro, aquí va: {label: positive}", "not valid JSON"),
        ("Claro, aquí va.", "no JSON object"),
        ('{"label": "happy", "score": 0.7}', "label"),
        ('{"label": "positive", "score": 7}', "score"),
        ('{"label": "positive", "score": -0.9}', "contradicts"),
        ("[1, 2]", "not an object"),
    ],
)
async def test_a_bad_answer_is_repaired_once(
    make_client: AppFactory, fake_llm: FakeLLM, bad: str, reason: str
) -> None:
    fake_llm.responder = scripted(bad, GOOD)
    async with make_client(llm=fake_llm) as client:
        response = await client.post(
            "/v1/tasks/sentiment", json={"text": "Un servicio excelente"}, headers=AUTH
        )
    assert response.status_code == 200, response.text
    assert response.json()["result"] == json.loads(GOOD)
    assert fake_llm.calls == 2
    repair = fake_llm.requests[1]["messages"]
    # The repair call shows the model its answer and what was wrong with it.
    assert repair[-2] == {"role": "assistant", "content": bad}
    assert repair[-1]["role"] == "user" and reason in repair[-1]["content"]
    assert fake_llm.requests[1]["response_format"] == fake_llm.requests[0]["response_format"]


async def test_json_wrapped_in_prose_or_fences_needs_no_repair(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.responder = scripted(f"```json\n{GOOD}\n```")
    async with make_client(llm=fake_llm) as client:
        response = await client.post(
            "/v1/tasks/sentiment", json={"text": "Un servicio excelente"}, headers=AUTH
        )
    assert response.status_code == 200, response.text
    assert fake_llm.calls == 1


@pytest.mark.parametrize("task", ["sentiment", "extract"])
async def test_invalid_twice_is_a_502(
    make_client: AppFactory, fake_llm: FakeLLM, task: str
) -> None:
    fake_llm.responder = scripted("not json at all")
    async with make_client(llm=fake_llm) as client:
        response = await client.post(
            f"/v1/tasks/{task}", json={"text": "Ana vive en Madrid"}, headers=AUTH
        )
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == "llm_bad_output"
    assert "repair" in error["message"]
    assert error["details"]["reason"]
    assert fake_llm.calls == 2


async def test_extract_repairs_a_date_that_is_not_iso(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    empty: dict[str, Any] = {
        "people": [],
        "organizations": [],
        "places": [],
        "amounts": [],
        "emails": [],
        "urls": [],
        "phones": [],
        "fields": None,
    }
    bad = json.dumps({**empty, "dates": [{"text": "3 de marzo", "value": "3 de marzo"}]})
    good = json.dumps({**empty, "dates": [{"text": "3 de marzo", "value": "2026-03-03"}]})
    fake_llm.responder = scripted(bad, good)
    async with make_client(llm=fake_llm) as client:
        response = await client.post(
            "/v1/tasks/extract", json={"text": "Llega el 3 de marzo"}, headers=AUTH
        )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["dates"] == [{"text": "3 de marzo", "value": "2026-03-03"}]
    assert "ISO 8601" in fake_llm.requests[1]["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("mode", "response_format"),
    [("json_object", {"type": "json_object"}), ("off", None)],
)
async def test_providers_without_json_schema(
    make_client: AppFactory, fake_llm: FakeLLM, mode: str, response_format: Any
) -> None:
    async with make_client(llm=fake_llm, llm_structured_output=mode) as client:
        response = await client.post(
            "/v1/tasks/sentiment", json={"text": "Un servicio excelente"}, headers=AUTH
        )
    assert response.status_code == 200, response.text
    request = fake_llm.requests[-1]
    assert request.get("response_format") == response_format
    # Without response_format's schema, the schema travels in the prompt.
    assert '"score"' in request["messages"][0]["content"]
    assert "JSON schema" in request["messages"][0]["content"]
