"""Texts ten times the model's context: summaries by map-reduce, translations chunk by chunk."""

from __future__ import annotations

import json
import re

from backend.offline.tokens import estimate_tokens
from tests.conftest import AUTH, AppFactory
from tests.support.fake_llm import FakeLLM

CONTEXT = 1000


def long_text(tokens: int) -> str:
    paragraphs: list[str] = []
    i = 0
    while estimate_tokens("\n\n".join(paragraphs)) < tokens:
        paragraphs.append(
            f"Párrafo {i}: el comité revisó el presupuesto del proyecto número {i}. "
            "Las obras avanzan según lo previsto y los vecinos piden más información. "
            "La próxima reunión decidirá los siguientes pasos."
        )
        i += 1
    return "\n\n".join(paragraphs)


async def test_summary_of_a_text_ten_times_the_context(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    text = long_text(10 * CONTEXT)
    async with make_client(
        llm=fake_llm, llm_context_tokens=CONTEXT, max_text_chars=len(text) + 1
    ) as client:
        response = await client.post(
            "/v1/tasks/summarize",
            json={"text": text, "options": {"max_sentences": 2}},
            headers=AUTH,
        )
    assert response.status_code == 200, response.text
    data = response.json()
    # The default fake summarizes a text as its first sentence: the final summary starts with
    # the first partial summary, which starts with the document's first paragraph.
    assert data["result"]["summary"].startswith("LLM summary: LLM summary: Párrafo 0")
    requests = fake_llm.requests
    assert len(requests) > 10
    systems = [r["messages"][0]["content"] for r in requests]
    assert sum("of a longer document" in s and "part " in s for s in systems) == len(requests) - 1
    assert "partial summaries of a longer document" in systems[-1]
    assert "at most 2 sentences" in systems[-1]
    # Partial and final summaries are asked in the text's detected language.
    assert all("the text's language (es)" in s for s in systems)
    # Every call fits the configured context (prompt plus the answer's room).
    for request in requests:
        prompt = sum(estimate_tokens(m["content"]) for m in request["messages"])
        assert prompt + request["max_tokens"] <= CONTEXT
    # The final call sees the partial summaries in the document's order.
    final_text = requests[-1]["messages"][-1]["content"]
    numbers = [int(n) for n in re.findall(r"Párrafo (\d+)", final_text)]
    assert numbers == sorted(numbers) and numbers[0] == 0
    # Usage adds up every call.
    assert data["usage"]["prompt_tokens"] >= sum(
        len(str(m["content"]).split()) for m in requests[0]["messages"]
    )


async def test_translation_of_a_text_ten_times_the_context_keeps_paragraph_order(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    text = long_text(10 * CONTEXT)
    async with make_client(
        llm=fake_llm, llm_context_tokens=CONTEXT, max_text_chars=len(text) + 1
    ) as client:
        response = await client.post(
            "/v1/tasks/translate",
            json={"text": text, "options": {"target_language": "fr"}},
            headers=AUTH,
        )
    assert response.status_code == 200, response.text
    translation = response.json()["result"]["translation"]
    requests = fake_llm.requests
    assert len(requests) > 10
    # The fake "translates" by prefixing [fr]: without the prefixes, the text comes back whole,
    # paragraphs and blank lines in their places and in their order.
    assert translation.replace("[fr] ", "") == text
    assert translation.count("[fr] ") == len(requests)
    for request in requests:
        prompt = sum(estimate_tokens(m["content"]) for m in request["messages"])
        assert prompt * 3 <= CONTEXT * 2  # the answer, as long as the chunk, fits too
        assert "code 'fr'" in request["messages"][0]["content"]
        assert "from 'es'" in request["messages"][0]["content"]  # the detected language


async def test_short_texts_take_one_call(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client(llm=fake_llm, llm_context_tokens=CONTEXT) as client:
        for task in ("summarize", "translate"):
            response = await client.post(
                f"/v1/tasks/{task}", json={"text": "Hola. ¿Qué tal?"}, headers=AUTH
            )
            assert response.status_code == 200, response.text
    assert fake_llm.calls == 2
    assert all("longer document" not in r["messages"][0]["content"] for r in fake_llm.requests)


async def test_extraction_over_a_long_text_merges_the_chunks(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    # The extraction prompt and schema take ~800 tokens: a larger context leaves room for text.
    context = 3 * CONTEXT
    text = long_text(3 * context) + "\n\nEscribe a ana@example.com o a luis@example.com."
    text = "Contacto: ana@example.com.\n\n" + text
    async with make_client(
        llm=fake_llm, llm_context_tokens=context, max_text_chars=len(text) + 1
    ) as client:
        response = await client.post(
            "/v1/tasks/extract",
            json={"text": text, "options": {"fields": ["email"]}},
            headers=AUTH,
        )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert fake_llm.calls > 3
    # Found in the first and the last chunk, each once.
    assert result["emails"] == ["ana@example.com", "luis@example.com"]
    assert result["fields"] == {"email": None}
    for request in fake_llm.requests:
        prompt = sum(estimate_tokens(m["content"]) for m in request["messages"])
        schema = estimate_tokens(json.dumps(request["response_format"], separators=(",", ":")))
        assert prompt + schema + request["max_tokens"] <= context


async def test_sentiment_over_a_long_text_averages_the_chunks(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    good = "Un servicio excelente y un trato bueno. " * 60
    neutral = "El paquete llegó el martes por la tarde. " * 180
    text = good + "\n\n" + neutral
    async with make_client(
        llm=fake_llm, llm_context_tokens=CONTEXT, max_text_chars=len(text) + 1
    ) as client:
        response = await client.post("/v1/tasks/sentiment", json={"text": text}, headers=AUTH)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert fake_llm.calls > 2
    # 0.8 for the good quarter, 0 for the rest: a mildly positive average.
    assert 0 < result["score"] < 0.8
    assert result["label"] == "positive"
    for request in fake_llm.requests:
        prompt = sum(estimate_tokens(m["content"]) for m in request["messages"])
        schema = estimate_tokens(json.dumps(request["response_format"], separators=(",", ":")))
        assert prompt + schema + request["max_tokens"] <= CONTEXT
