"""New tasks appear wherever tasks are listed: /v1/tasks, OpenAPI, compat endpoints, modes."""

from __future__ import annotations

from tests.conftest import AUTH, AppFactory
from tests.support.fake_llm import FakeLLM

NEW = {"extract": "extraer", "sentiment": "sentimiento", "report": "reporte", "generate": "generar"}


async def test_task_list_and_openapi_include_the_new_tasks(make_client: AppFactory) -> None:
    async with make_client() as client:
        tasks = {t["name"]: t for t in (await client.get("/v1/tasks", headers=AUTH)).json()}
        spec = (await client.get("/openapi.json")).json()
    for name, spanish in NEW.items():
        assert tasks[name]["aliases"][0] == spanish
        assert f"/v1/tasks/{name}" in spec["paths"]
    assert {n: tasks[n]["offline"] for n in NEW} == {
        "extract": True,
        "sentiment": True,
        "report": True,
        "generate": False,
    }
    assert "fields" in tasks["extract"]["options_schema"]["properties"]
    assert "period" in tasks["report"]["options_schema"]["properties"]
    assert {"max_words", "tone"} <= set(tasks["generate"]["options_schema"]["properties"])
    schemas = spec["components"]["schemas"]
    assert "ExtractionResult" in schemas and "SentimentResult" in schemas


async def test_compat_endpoints_and_chat_modes(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client() as client:
        estado = await client.post(
            "/api/v1/estado", json={"chat_id": 3, "modo": "/sentimiento"}, headers=AUTH
        )
        assert estado.status_code == 200, estado.text
        assert estado.json()["modo_actual"] == "sentimiento"
        assert estado.json()["mensaje"] == "¿Qué texto quieres analizar (sentimiento)?"
        by_mode = await client.post(
            "/api/v1/procesar",
            json={"chat_id": 3, "texto": "Me encanta, es excelente"},
            headers=AUTH,
        )
        assert by_mode.status_code == 200, by_mode.text
        assert by_mode.json()["tipo_tarea"] == "sentimiento"
        assert by_mode.json()["resultado"].startswith("positive")

        extraer = await client.post(
            "/api/v1/procesar",
            json={"chat_id": 3, "texto": "Escribe a ana@example.com", "tipo_tarea": "extraer"},
            headers=AUTH,
        )
        assert extraer.status_code == 200, extraer.text
        assert "emails: ana@example.com" in extraer.json()["resultado"]

        reporte = await client.post(
            "/api/v1/procesar",
            json={"chat_id": 3, "texto": "informe de hoy", "tipo_tarea": "reporte"},
            headers=AUTH,
        )
        assert reporte.status_code == 200, reporte.text
        assert reporte.json()["resultado"].startswith("último día: 2 peticiones")

        generar = await client.post(
            "/api/v1/procesar",
            json={"chat_id": 3, "texto": "Un poema", "tipo_tarea": "generar"},
            headers=AUTH,
        )
        assert generar.status_code == 503
        assert generar.json()["error"]["code"] == "llm_unavailable"

        mode = await client.put("/v1/chats/3/mode", json={"mode": "generar"}, headers=AUTH)
        assert mode.json()["mode"] == "generate"

    async with make_client(llm=fake_llm) as client:
        generar = await client.post(
            "/api/v1/procesar",
            json={"chat_id": 3, "texto": "Un poema corto", "tipo_tarea": "generar"},
            headers=AUTH,
        )
        assert generar.status_code == 200, generar.text
        assert generar.json()["resultado"] == "LLM text: Un poema corto"
