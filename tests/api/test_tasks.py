"""The canonical task API, on PostgreSQL+Redis and on the embedded SQLite+memory defaults."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import AUTH, AppFactory, Stack
from tests.support.fake_llm import FakeLLM

TEXT_ES = (
    "El ayuntamiento aprobó ayer el nuevo plan de movilidad urbana. "
    "El plan reduce el tráfico en el centro y amplía los carriles bici. "
    "Los comerciantes temen perder clientes durante las obras. "
    "La alcaldesa aseguró que las obras terminarán antes del verano."
)


async def history_rows(stack: Stack) -> list[dict[str, Any]]:
    if stack.database_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(stack.database_url.split(":///", 1)[1]) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM history ORDER BY created_at")]
    conn = await asyncpg.connect(stack.database_url.replace("+asyncpg", ""))
    try:
        return [dict(r) for r in await conn.fetch("SELECT * FROM history ORDER BY created_at")]
    finally:
        await conn.close()


async def test_summarize_through_llm_is_cached_and_recorded(
    make_client: AppFactory, fake_llm: FakeLLM, stack: Stack
) -> None:
    async with make_client(llm=fake_llm) as client:
        body = {"text": TEXT_ES, "chat_id": 42, "options": {"max_sentences": 2}}
        first = await client.post("/v1/tasks/summarize", json=body, headers=AUTH)
        assert first.status_code == 200, first.text
        data = first.json()
        assert data["task"] == "summarize"
        assert data["result"]["summary"].startswith("LLM summary: El ayuntamiento")
        assert data["output"] == data["result"]["summary"]
        assert data["model"] == "fake-model"
        assert data["language"] == "es"
        assert data["cached"] is False and data["degraded"] is False
        assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0
        assert fake_llm.calls == 1
        # The prompt carries the options and keeps the text as data.
        system = fake_llm.requests[0]["messages"][0]["content"]
        assert "at most 2 sentences" in system

        second = await client.post("/v1/tasks/summarize", json=body, headers=AUTH)
        assert second.json()["cached"] is True
        assert second.json()["result"] == data["result"]
        assert second.json()["id"] != data["id"]
        assert fake_llm.calls == 1

        fresh = await client.post(
            "/v1/tasks/summarize", json=body, headers={**AUTH, "Cache-Control": "no-cache"}
        )
        assert fresh.json()["cached"] is False
        assert fake_llm.calls == 2

        other_options = {**body, "options": {"max_sentences": 1}}
        await client.post("/v1/tasks/summarize", json=other_options, headers=AUTH)
        assert fake_llm.calls == 3

    rows = await history_rows(stack)
    assert len(rows) == 4
    assert [bool(r["cached"]) for r in rows] == [False, True, False, False]
    assert rows[0]["chat_id"] == 42 and rows[0]["task"] == "summarize"
    assert rows[0]["input_text"] == TEXT_ES
    assert rows[0]["language"] == "es" and rows[0]["model"] == "fake-model"
    assert rows[0]["prompt_tokens"] > 0


async def test_offline_summary_without_llm(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client() as client:
        response = await client.post(
            "/v1/tasks/summarize",
            json={"text": TEXT_ES, "options": {"max_sentences": 2}},
            headers=AUTH,
        )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["model"] == "offline" and data["usage"] is None
    summary = data["result"]["summary"]
    assert 0 < len(summary) < len(TEXT_ES)
    # Extractive: every sentence of the summary comes from the text.
    for sentence in summary.split(". "):
        assert sentence.rstrip(".") in TEXT_ES
    assert fake_llm.calls == 0


async def test_classify_with_llm_and_offline(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    text = "Urgente: el servidor no funciona y necesitamos ayuda inmediata"
    async with make_client(llm=fake_llm) as client:
        response = await client.post(
            "/v1/tasks/classify",
            json={"text": text, "options": {"labels": ["billing", "servidor", "ventas"]}},
            headers=AUTH,
        )
        assert response.status_code == 200, response.text
        assert response.json()["result"] == {
            "label": "servidor",
            "labels": ["servidor"],
            "scores": None,
        }
        assert response.json()["output"] == "servidor"
        assert fake_llm.requests[-1]["response_format"] == {"type": "json_object"}
    async with make_client() as client:
        response = await client.post("/v1/tasks/classify", json={"text": text}, headers=AUTH)
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        assert result["label"] == "urgent"
        assert set(result["scores"]) == {
            "urgent",
            "question",
            "request",
            "complaint",
            "information",
        }


async def test_classify_rejects_label_outside_the_options(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.responder = lambda messages, body: '{"label": "pizza", "labels": ["pizza"]}'
    async with make_client(llm=fake_llm) as client:
        response = await client.post(
            "/v1/tasks/classify",
            json={"text": "hola", "options": {"labels": ["a", "b"]}},
            headers=AUTH,
        )
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "llm_bad_output"


async def test_translate_needs_an_llm(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    body = {"text": "Hola, ¿cómo estás?", "options": {"target_language": "fr"}}
    async with make_client() as client:
        offline = await client.post("/v1/tasks/translate", json=body, headers=AUTH)
    assert offline.status_code == 503
    error = offline.json()["error"]
    assert error["code"] == "llm_unavailable"
    assert "OPENAI_BASE_URL" in error["message"]
    async with make_client(llm=fake_llm) as client:
        online = await client.post("/v1/tasks/translate", json=body, headers=AUTH)
    assert online.status_code == 200, online.text
    assert online.json()["result"] == {
        "translation": "[fr] Hola, ¿cómo estás?",
        "source_language": "es",
        "target_language": "fr",
    }


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/tasks/nope", {"text": "hola"}, 404, "unknown_task"),
        ("/v1/tasks/summarize", {"text": ""}, 422, "validation_error"),
        ("/v1/tasks/summarize", {"text": "   \n "}, 422, "validation_error"),
        (
            "/v1/tasks/summarize",
            {"text": "hola", "options": {"max_sentences": 0}},
            422,
            "validation_error",
        ),
        (
            "/v1/tasks/summarize",
            {"text": "hola", "options": {"colour": "red"}},
            422,
            "validation_error",
        ),
        (
            "/v1/tasks/translate",
            {"text": "hola", "options": {"target_language": "xx-long"}},
            422,
            "validation_error",
        ),
        ("/v1/tasks/summarize", {"text": "x" * 101}, 413, "text_too_long"),
        (
            "/v1/tasks/resumir",
            {"text": "hola", "options": {"max_sentences": 0}},
            422,
            "validation_error",
        ),
    ],
)
async def test_bad_requests_get_clear_errors(
    make_client: AppFactory, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    async with make_client(max_text_chars=100) as client:
        response = await client.post(path, json=body, headers=AUTH)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


async def test_alias_route_runs_the_task(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await client.post("/v1/tasks/resumir", json={"text": TEXT_ES}, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["task"] == "summarize"


async def test_task_list_and_openapi(make_client: AppFactory) -> None:
    async with make_client() as client:
        tasks = (await client.get("/v1/tasks", headers=AUTH)).json()
        spec = (await client.get("/openapi.json")).json()
    by_name = {t["name"]: t for t in tasks}
    assert {"summarize", "classify", "translate"} <= set(by_name)
    assert by_name["translate"]["offline"] is False
    assert by_name["summarize"]["offline"] is True
    assert "resumir" in by_name["summarize"]["aliases"]
    assert "max_sentences" in by_name["summarize"]["options_schema"]["properties"]
    assert "/v1/tasks/summarize" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert "SummarizeRequest" in schemas and "ClassifyResponse" in schemas
    assert "target_language" in schemas["TranslateOptions"]["properties"]
