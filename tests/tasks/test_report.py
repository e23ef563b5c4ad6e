"""report: the history reader's filters, and digests offline and with the LLM."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from backend.history.models import HistoryRecord
from backend.history.reader import SqlHistoryReader
from backend.tasks.base import TaskContext
from backend.tasks.plugins.report import TASK as REPORT
from backend.tasks.plugins.report import ReportOptions
from tests.conftest import AUTH, AppFactory, app_of
from tests.support.fake_llm import FakeLLM

NOW = datetime.now(UTC)


def record(
    api_key_id: int, chat_id: int | None, task: str, text: str, age: timedelta
) -> HistoryRecord:
    return HistoryRecord(
        id=uuid.uuid4(),
        created_at=NOW - age,
        api_key_id=api_key_id,
        chat_id=chat_id,
        task=task,
        input_text=text,
        output_text=f"out: {text}",
        result={},
        options={},
        language="es",
        model="offline",
    )


async def test_reader_keeps_to_the_key_the_chat_and_the_period(make_client: AppFactory) -> None:
    async with make_client() as client:
        sessionmaker = app_of(client).state.resources.sessionmaker
        async with sessionmaker() as session, session.begin():
            session.add_all(
                [
                    record(1, 9, "summarize", "uno", timedelta(hours=1)),
                    record(1, 9, "classify", "dos", timedelta(days=2)),
                    record(1, 10, "classify", "otro chat", timedelta(hours=2)),
                    record(2, 9, "classify", "otra clave", timedelta(hours=3)),
                    record(1, 9, "translate", "viejo", timedelta(days=40)),
                ]
            )
        reader = SqlHistoryReader(sessionmaker)
        week = await reader.entries(
            api_key_id=1, chat_id=9, since=NOW - timedelta(days=7), until=NOW
        )
        assert [e.input_text for e in week] == ["dos", "uno"]  # oldest first
        assert week[0].created_at.tzinfo is not None
        every_chat = await reader.entries(
            api_key_id=1, chat_id=None, since=NOW - timedelta(days=7), until=NOW
        )
        assert {e.input_text for e in every_chat} == {"uno", "dos", "otro chat"}
        newest = await reader.entries(
            api_key_id=1, chat_id=9, since=NOW - timedelta(days=7), until=NOW, limit=1
        )
        assert [e.input_text for e in newest] == ["uno"]

        # The task itself, with that reader: counts per task, report rows left out.
        ctx = TaskContext(language="es", now=NOW, api_key_id=1, chat_id=9, history=reader)
        day = await REPORT.arun_offline("informe", ReportOptions(period="day"), ctx)
        assert day is not None
        assert (day.total, day.counts) == (1, {"summarize": 1})
        month = await REPORT.arun_offline("informe del mes", ReportOptions(), ctx)
        assert month is not None and month.period == "month"
        assert month.counts == {"classify": 1, "summarize": 1}


SUMMARIZE_TEXT = (
    "El ayuntamiento aprobó el plan de movilidad. El plan amplía los carriles bici. "
    "Los comerciantes temen perder clientes."
)


async def _activity(client: object) -> None:
    from httpx import AsyncClient

    assert isinstance(client, AsyncClient)
    for task, text, chat in (
        ("summarize", SUMMARIZE_TEXT, 9),
        ("classify", "¿Cuándo abre la oficina de Madrid?", 9),
        ("classify", "Urgente: el servidor de facturas no responde", 9),
        ("classify", "Otro chat, otra historia", 10),
    ):
        response = await client.post(
            f"/v1/tasks/{task}", json={"text": text, "chat_id": chat}, headers=AUTH
        )
        assert response.status_code == 200, response.text


async def test_report_offline_over_http(make_client: AppFactory) -> None:
    async with make_client() as client:
        await _activity(client)
        response = await client.post(
            "/v1/tasks/reporte", json={"text": "informe de la semana", "chat_id": 9}, headers=AUTH
        )
        assert response.status_code == 200, response.text
        data = response.json()
        result = data["result"]
        assert data["task"] == "report" and data["model"] == "offline"
        assert result["period"] == "week"
        assert result["total"] == 3
        assert result["counts"] == {"classify": 2, "summarize": 1}
        # Extractive: the summary is made of what was processed.
        assert result["summary"]
        sources = SUMMARIZE_TEXT + " ¿Cuándo abre la oficina de Madrid? Urgente: el servidor"
        assert all(s.split()[0] in sources for s in result["summary"].split(". "))
        assert data["output"].startswith("última semana: 3 peticiones (classify: 2, summarize: 1)")

        # Reports read the history as it is now: one more request, one more in the count.
        await client.post(
            "/v1/tasks/summarize", json={"text": "Otra noticia.", "chat_id": 9}, headers=AUTH
        )
        again = await client.post(
            "/v1/tasks/report",
            json={"text": "informe de la semana", "chat_id": 9},
            headers=AUTH,
        )
        assert again.json()["result"]["total"] == 4
        # Same text, another chat: that chat's own history, never chat 9's answer.
        other = await client.post(
            "/v1/tasks/report",
            json={"text": "informe de la semana", "chat_id": 10},
            headers=AUTH,
        )
        assert other.json()["result"]["total"] == 1


async def test_report_with_the_llm(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client(llm=fake_llm) as client:
        await _activity(client)
        calls = fake_llm.calls
        response = await client.post(
            "/v1/tasks/report",
            json={"text": "weekly report", "chat_id": 9, "options": {"period": "day"}},
            headers=AUTH,
        )
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        assert result["period"] == "day" and result["total"] == 3
        assert result["summary"] == "LLM digest of 3 requests."
        assert fake_llm.calls == calls + 1
        digest = fake_llm.requests[-1]["messages"][-1]["content"]
        assert "[summarize] El ayuntamiento aprobó" in digest
        assert "Otro chat" not in digest  # another chat's history stays out

        # No activity: no LLM call at all.
        empty = await client.post(
            "/v1/tasks/report", json={"text": "weekly report", "chat_id": 77}, headers=AUTH
        )
        assert empty.status_code == 200, empty.text
        assert empty.json()["result"]["total"] == 0
        assert empty.json()["result"]["summary"] == "No activity in this period."
        assert fake_llm.calls == calls + 1
