"""extract, sentiment and generate through the real app: with the fake LLM and offline, es/en."""

from __future__ import annotations

from tests.conftest import AUTH, AppFactory
from tests.support.fake_llm import FakeLLM

EXTRACT_ES = (
    "Hola Ana, la reunión con María García de Telefónica será el 3 de marzo de 2026 en Madrid. "
    "El presupuesto es de 1.250,50 €. Escribe a ana.lopez@example.com o llama al "
    "+34 612 345 678."
)
EXTRACT_EN = (
    "Dear John, Sarah Connor from Acme Corp will visit London on March 10, 2026. The budget "
    "is $3.5 million. Call (555) 123-4567 or email sarah@acme.io, docs at https://acme.io/docs."
)


async def test_extract_with_the_llm_uses_the_result_schema(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm) as client:
        response = await client.post("/v1/tasks/extract", json={"text": EXTRACT_EN}, headers=AUTH)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["task"] == "extract" and data["language"] == "en"
    assert "Sarah Connor" in data["result"]["people"]
    assert data["result"]["emails"] == ["sarah@acme.io"]
    assert data["result"]["fields"] is None
    assert "emails: sarah@acme.io" in data["output"]
    request = fake_llm.requests[-1]
    # Structured output: the result model's JSON schema goes in response_format.
    assert request["response_format"]["type"] == "json_schema"
    schema = request["response_format"]["json_schema"]
    assert schema["name"] == "extraction"
    assert {"people", "dates", "amounts", "phones"} <= set(schema["schema"]["properties"])
    # Relative dates are resolved against the request's date, which the prompt gives.
    assert "resolve relative dates against today" in request["messages"][0]["content"]


async def test_extract_custom_fields_with_the_llm(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    body = {
        "text": EXTRACT_ES,
        "options": {"fields": {"cliente": "Nombre del cliente", "importe": ""}},
    }
    async with make_client(llm=fake_llm) as client:
        response = await client.post("/v1/tasks/extraer", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["fields"] == {"cliente": None, "importe": None}
    schema = fake_llm.requests[-1]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["fields"]["required"] == ["cliente", "importe"]
    assert "fields" in schema["required"]


async def test_extract_offline_spanish_and_english(make_client: AppFactory) -> None:
    async with make_client() as client:
        es = await client.post("/v1/tasks/extract", json={"text": EXTRACT_ES}, headers=AUTH)
        en = await client.post(
            "/v1/tasks/extract",
            json={"text": EXTRACT_EN, "options": {"fields": ["email", "amount", "colour"]}},
            headers=AUTH,
        )
    assert es.status_code == 200, es.text
    result = es.json()["result"]
    assert es.json()["model"] == "offline"
    assert result["people"] == ["Ana", "María García"]
    assert result["organizations"] == ["Telefónica"]
    assert result["places"] == ["Madrid"]
    assert result["dates"] == [{"text": "3 de marzo de 2026", "value": "2026-03-03"}]
    assert result["amounts"] == [
        {"text": "1.250,50 €", "value": 1250.5, "currency": "EUR", "unit": None}
    ]
    assert result["emails"] == ["ana.lopez@example.com"]
    assert result["phones"] == ["+34612345678"]

    assert en.status_code == 200, en.text
    result = en.json()["result"]
    assert result["people"] == ["John", "Sarah Connor"]
    assert result["organizations"] == ["Acme Corp"]
    assert result["places"] == ["London"]
    assert result["dates"] == [{"text": "March 10, 2026", "value": "2026-03-10"}]
    assert result["amounts"][0]["value"] == 3_500_000 and result["amounts"][0]["currency"] == "USD"
    assert result["urls"] == ["https://acme.io/docs"]
    # Custom fields offline: those whose names match a standard kind, else null.
    assert result["fields"] == {"email": "sarah@acme.io", "amount": 3_500_000.0, "colour": None}


async def test_extract_rejects_bad_custom_fields(make_client: AppFactory) -> None:
    async with make_client() as client:
        for options in (
            {"fields": ["not a name!"]},
            {"json_schema": {"type": "string"}},
            {"fields": ["a"], "json_schema": {"type": "object", "properties": {}}},
        ):
            response = await client.post(
                "/v1/tasks/extract", json={"text": "hola", "options": options}, headers=AUTH
            )
            assert response.status_code == 422, options
            assert response.json()["error"]["code"] == "validation_error"


async def test_sentiment_with_the_llm(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client(llm=fake_llm) as client:
        es = await client.post(
            "/v1/tasks/sentimiento", json={"text": "El hotel es excelente"}, headers=AUTH
        )
        en = await client.post(
            "/v1/tasks/sentiment", json={"text": "Terrible service, never again"}, headers=AUTH
        )
    assert es.status_code == 200, es.text
    assert es.json()["result"] == {"label": "positive", "score": 0.8, "evidence": []}
    assert es.json()["output"] == "positive (+0.80)"
    assert en.json()["result"]["label"] == "negative"
    assert fake_llm.requests[-1]["response_format"]["json_schema"]["name"] == "sentiment"


async def test_sentiment_offline_spanish_and_english(make_client: AppFactory) -> None:
    cases = {
        "El servicio fue excelente y el personal muy amable.": "positive",
        "No me gustó nada: llegó roto y tarde, un desastre.": "negative",
        "I love this app, it works great!": "positive",
        "The parcel arrives on Tuesday.": "neutral",
    }
    async with make_client() as client:
        for text, label in cases.items():
            response = await client.post("/v1/tasks/sentiment", json={"text": text}, headers=AUTH)
            assert response.status_code == 200, response.text
            result = response.json()["result"]
            assert result["label"] == label, text
            assert -1 <= result["score"] <= 1


async def test_generate_with_the_llm_and_its_limits(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    body = {
        "text": "Escribe un correo de bienvenida para nuevos clientes",
        "options": {"max_words": 50, "tone": "formal"},
    }
    async with make_client(llm=fake_llm) as client:
        response = await client.post("/v1/tasks/generar", json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["task"] == "generate"
        assert data["result"]["text"].startswith("LLM text: Escribe un correo")
        assert data["result"]["words"] == len(data["result"]["text"].split())
        request = fake_llm.requests[-1]
        system = request["messages"][0]["content"]
        assert "at most 50 words" in system and "a formal tone" in system
        assert "code 'es'" in system  # answers in the instructions' language
        assert request["max_tokens"] == 50 * 2 + 64

        # A model that overshoots max_words is cut to it.
        fake_llm.responder = lambda messages, body: "Palabra larga. " * 200
        long = await client.post(
            "/v1/tasks/generate",
            json={"text": "Write a story", "options": {"max_words": 20, "language": "en"}},
            headers=AUTH,
        )
        assert long.status_code == 200, long.text
        assert long.json()["result"]["words"] <= 20
        assert "code 'en'" in fake_llm.requests[-1]["messages"][0]["content"]


async def test_generate_offline_is_unavailable(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await client.post(
            "/v1/tasks/generate", json={"text": "Write a haiku"}, headers=AUTH
        )
        tasks = {t["name"]: t for t in (await client.get("/v1/tasks", headers=AUTH)).json()}
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "llm_unavailable"
    assert tasks["generate"]["offline"] is False
