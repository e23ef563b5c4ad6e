"""The shipped n8n workflows (n8n-flows/), imported into a real n8n 1.123 and driven end to end:
HTTP into n8n's webhooks, n8n into the service (PostgreSQL, Redis, fake LLM) and into the fake
Telegram Bot API, and the rows the service recorded."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

from tests.conftest import AUTH
from tests.e2e.editor import Browser, draw_workflow, ensure_chromium, log_in, setup_owner
from tests.e2e.stack import Stack
from tests.support.fake_telegram import RecordedCall

T = TypeVar("T")

TEXT_ES = (
    "El ayuntamiento aprobó ayer el nuevo plan de movilidad urbana. "
    "El plan reduce el tráfico en el centro y amplía los carriles bici. "
    "Los comerciantes temen perder clientes durante las obras."
)
SUMMARY_ES = "LLM summary: El ayuntamiento aprobó ayer el nuevo plan de movilidad urbana."
# Generous: n8n runs each webhook in its own execution; a loaded CI machine can be slow.
WITHIN = 60.0


async def eventually(check: Callable[[], T | None], what: str, within: float = WITHIN) -> T:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {within:.0f}s still waiting for: {what}")
        await asyncio.sleep(0.1)


async def history_rows(stack: Stack, chat_id: int) -> list[dict[str, Any]]:
    dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT * FROM history WHERE chat_id = $1 ORDER BY created_at", chat_id
        )
        return [dict(r) for r in rows]
    finally:
        await conn.close()


# --- webhook-process ---------------------------------------------------------------------------


async def test_webhook_flow_returns_the_result_and_passes_errors_through(
    n8n_stack: Stack,
) -> None:
    url = n8n_stack.webhook_url("assistant/process")
    seen_before = len(n8n_stack.seen.requests)
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        ok = await http.post(url, json={"task": "summarize", "text": TEXT_ES, "chat_id": 4242})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["task"] == "summarize" and body["result"]["summary"] == SUMMARY_ES
        assert body["model"] == "fake-model"

        # Spanish task names and options reach the service unchanged.
        translated = await http.post(
            url,
            json={"task": "traducir", "text": "Hola", "options": {"target_language": "fr"}},
        )
        assert translated.status_code == 200, translated.text
        assert translated.json()["output"] == "[fr] Hola"

        # The service's refusals keep their status and error body.
        blank = await http.post(url, json={"task": "summarize", "text": "   "})
        assert blank.status_code == 422, blank.text
        assert blank.json()["error"]["code"] == "validation_error"
        unknown = await http.post(url, json={"task": "nope", "text": "hola"})
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"]["code"] == "unknown_task"
        bad_option = await http.post(
            url, json={"task": "summarize", "text": TEXT_ES, "options": {"max_sentences": 99}}
        )
        assert bad_option.status_code == 422, bad_option.text
        # Without a task the flow answers by itself, in the service's error shape.
        missing = await http.post(url, json={"text": "hola"})
        assert missing.status_code == 422, missing.text
        assert missing.json()["error"]["code"] == "validation_error"
        assert "task" in missing.json()["error"]["message"]

    rows = await history_rows(n8n_stack, 4242)
    assert [(r["task"], r["input_text"], r["output_text"]) for r in rows] == [
        ("summarize", TEXT_ES, SUMMARY_ES)
    ]
    # Every call carried an Idempotency-Key made from the n8n execution, one per execution.
    task_calls = [
        r for r in n8n_stack.seen.requests[seen_before:] if r.path.startswith("/v1/tasks/")
    ]
    assert len(task_calls) == 5  # the request without a task never reached the service
    task_keys = [r.headers.get("idempotency-key", "") for r in task_calls]
    assert all(re.fullmatch(r"n8n-WaWebhookProcess-\d+", k) for k in task_keys), task_keys
    assert len(set(task_keys)) == 5
    assert all(r.headers.get("x-api-key") == AUTH["x-api-key"] for r in task_calls)


async def test_webhook_flow_forwards_the_callers_idempotency_key(n8n_stack: Stack) -> None:
    url = n8n_stack.webhook_url("assistant/process")
    body = {"task": "classify", "text": "Urgente: el servidor no responde", "chat_id": 4343}
    headers = {"Idempotency-Key": "e2e-retry-1"}
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        first = await http.post(url, json=body, headers=headers)
        again = await http.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    # The retry got the stored answer: same record, and the task ran once.
    assert again.json()["id"] == first.json()["id"]
    assert len(await history_rows(n8n_stack, 4343)) == 1
    sent = [r.headers.get("idempotency-key") for r in n8n_stack.seen.to("/v1/tasks/classify")]
    assert sent[-2:] == ["e2e-retry-1", "e2e-retry-1"]


# --- telegram-assistant ------------------------------------------------------------------------


class TelegramChat:
    """Delivers updates the way Telegram does (POST to the registered webhook with the secret
    header) and waits for the bot's answers in the fake Bot API."""

    def __init__(self, stack: Stack, http: httpx.AsyncClient, chat_id: int) -> None:
        self.stack = stack
        self.http = http
        self.chat_id = chat_id

    @property
    def telegram(self) -> Any:
        return self.stack.telegram

    def replies(self) -> list[RecordedCall]:
        return [
            c
            for c in self.telegram.calls_to("sendMessage")
            if int(c.params.get("chat_id", 0)) == self.chat_id
        ]

    async def deliver(self, update: dict[str, Any]) -> httpx.Response:
        hook = self.telegram.webhook
        return await self.http.post(
            hook["url"],
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]},
        )

    async def send(self, update: dict[str, Any]) -> RecordedCall:
        """One update in, the bot's one reply out (waits for it before the next update)."""
        before = len(self.replies())
        response = await self.deliver(update)
        assert response.status_code == 200, response.text
        replies = await eventually(
            lambda: self.replies() if len(self.replies()) > before else None,
            f"a reply in chat {self.chat_id} to {update}",
        )
        return replies[before]

    async def say(self, text: str) -> str:
        reply = await self.send(self.telegram.message_update(text, chat_id=self.chat_id))
        return str(reply.params["text"])


def keyboard_data(call: RecordedCall) -> list[str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return [button["callback_data"] for row in rows for button in row]


async def test_telegram_trigger_registered_its_webhook_with_a_secret(n8n_stack: Stack) -> None:
    flow = n8n_stack.flows["telegram-assistant"]
    trigger = n8n_stack.node("telegram-assistant", "n8n-nodes-base.telegramTrigger")
    hook = n8n_stack.telegram.webhook
    assert hook["url"] == f"{n8n_stack.n8n.url}/webhook/{trigger['webhookId']}/webhook"
    # n8n 1.123's Telegram Trigger: "<workflow id>_<node id>" minus characters Telegram refuses.
    expected = re.sub(r"[^a-zA-Z0-9_-]+", "", f"{flow['id']}_{trigger['id']}")
    assert hook["secret_token"] == expected
    set_webhook = n8n_stack.telegram.calls_to("setWebhook")[-1]
    assert set_webhook.params["allowed_updates"] == ["message", "callback_query"]

    async with httpx.AsyncClient(timeout=WITHIN) as http:
        forged = await http.post(
            hook["url"],
            json=n8n_stack.telegram.message_update("/start", chat_id=1),
            headers={"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"},
        )
    assert forged.status_code == 403


async def test_telegram_flow_summarizes_in_the_chats_mode(n8n_stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        chat = TelegramChat(n8n_stack, http, chat_id=1001)

        welcome = await chat.send(n8n_stack.telegram.message_update("/start", chat_id=1001))
        assert "asistente" in welcome.params["text"]
        assert keyboard_data(welcome) == [
            "/resumir",
            "/traducir",
            "/clasificar",
            "/consultar",
            "/limpiar",
        ]
        assert welcome.params["parse_mode"] == "HTML"
        assert "n8n" not in welcome.params["text"]  # attribution off

        assert await chat.say("/resumir") == "¿Qué texto quieres resumir?"
        summary = await chat.say(TEXT_ES)
        assert summary == html.escape(SUMMARY_ES, quote=False)

        # The mode was used once; a text without a mode gets the keyboard, not an error.
        assert await chat.say("otro texto sin modo") == "Primero elige qué hago con tu texto:"
        # "/command text" runs that task right away.
        assert await chat.say("/traducir Buenos días") == "[en] Buenos días"

    rows = await history_rows(n8n_stack, 1001)
    assert [(r["task"], r["input_text"], r["output_text"]) for r in rows] == [
        ("summarize", TEXT_ES, SUMMARY_ES),
        ("translate", "Buenos días", "[en] Buenos días"),
    ]
    estado = n8n_stack.seen.to("/api/v1/estado")[-1]
    assert re.fullmatch(r"telegram-1001-\d+", estado.headers["idempotency-key"])


async def test_telegram_flow_buttons_unknown_commands_and_service_errors(
    n8n_stack: Stack,
) -> None:
    telegram = n8n_stack.telegram
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        chat = TelegramChat(n8n_stack, http, chat_id=2002)

        press = telegram.callback_update("/clasificar", chat_id=2002)
        reply = await chat.send(press)
        assert reply.params["text"] == "¿Qué texto quieres clasificar?"
        answered = await eventually(
            lambda: [
                c
                for c in telegram.calls_to("answerCallbackQuery")
                if c.params.get("callback_query_id") == press["callback_query"]["id"]
            ],
            "answerCallbackQuery for the button",
        )
        assert len(answered) == 1
        label = await chat.say("Tengo una pregunta sobre la factura")

        unknown = await chat.say("/bailar")
        assert unknown.startswith("⚠️ Modo '/bailar' no reconocido")

        # The service's refusals are answered in words; the execution does not fail.
        too_long = await chat.say("/resumir " + "palabra " * 7000)
        assert too_long == "⚠️ El texto es demasiado largo."

    rows = await history_rows(n8n_stack, 2002)
    assert [r["task"] for r in rows] == ["classify"]
    assert label == html.escape(rows[0]["output_text"], quote=False)


# --- async-job ---------------------------------------------------------------------------------


async def test_async_job_flow_waits_for_the_callback(n8n_stack: Stack) -> None:
    url = n8n_stack.webhook_url("assistant/job")
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        done = await http.post(url, json={"task": "summarize", "text": TEXT_ES, "chat_id": 5005})
        assert done.status_code == 200, done.text
        assert done.json()["result"]["summary"] == SUMMARY_ES

        refused = await http.post(url, json={"task": "nope", "text": "hola"})
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"]["code"] == "unknown_task"

        jobs = await http.get(f"{n8n_stack.service.url}/v1/jobs", headers=AUTH)
    assert jobs.status_code == 200, jobs.text
    job = next(j for j in jobs.json()["jobs"] if j["chat_id"] == 5005)
    assert job["status"] == "succeeded"
    # The callback went to this execution's resume URL, and n8n accepted it.
    assert job["callback"]["url"].startswith(f"{n8n_stack.n8n.url}/webhook-waiting/")
    assert job["callback"]["status"] == "delivered"
    assert [r["task"] for r in await history_rows(n8n_stack, 5005)] == ["summarize"]


async def test_async_job_flow_ignores_a_strangers_callback(n8n_stack: Stack) -> None:
    """n8n 1.123's resume URLs are guessable (/webhook-waiting/<execution id>). A POST there that is
    not this job's callback does not become the answer: the flow reads the job instead."""
    service = n8n_stack.service.url
    n8n_stack.llm.latency = 3.0  # the job is still running when the stranger calls
    try:
        async with httpx.AsyncClient(timeout=WITHIN) as http:
            caller = asyncio.create_task(
                http.post(
                    n8n_stack.webhook_url("assistant/job"),
                    json={"task": "summarize", "text": "Uno. Dos. Tres.", "chat_id": 6006},
                )
            )

            async def resume_url() -> str | None:
                jobs = (await http.get(f"{service}/v1/jobs", headers=AUTH)).json()["jobs"]
                mine = [j for j in jobs if j["chat_id"] == 6006]
                return mine[0]["callback"]["url"] if mine else None

            url = None
            while url is None and not caller.done():
                url = await resume_url()
            assert url, (await caller).text
            forged = {"job_id": "00000000-0000-4000-8000-000000000000", "status": "succeeded"}
            # n8n answers 409 until the execution reaches its Wait node.
            for _ in range(100):
                status = (await http.post(url, json={**forged, "result": {"x": 1}})).status_code
                if status != 409:
                    break
                await asyncio.sleep(0.02)
            assert status == 200
            answer = await caller
    finally:
        n8n_stack.llm.latency = 0.0
    assert answer.status_code == 504, answer.text
    assert answer.json()["error"]["code"] == "job_timeout"
    assert answer.json()["error"]["details"]["status"] in ("queued", "running")


# --- weekly-digest -----------------------------------------------------------------------------


async def test_weekly_digest_sends_each_active_chat_its_report(n8n_stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        seeded = await http.post(
            n8n_stack.webhook_url("assistant/process"),
            json={"task": "summarize", "text": TEXT_ES, "chat_id": 3003},
        )
        assert seeded.status_code == 200, seeded.text

    # The Schedule Trigger fires weekly; the same flow runs now from its Manual Trigger.
    output = await asyncio.to_thread(n8n_stack.n8n.execute, n8n_stack.flows["weekly-digest"]["id"])
    assert '"status": "success"' in output, output[-3000:]

    sent = [c for c in n8n_stack.telegram.calls_to("sendMessage") if c.params["chat_id"] == 3003]
    assert len(sent) == 1, sent
    text = str(sent[0].params["text"])
    assert text.startswith("📊 <b>Tu semana</b>\n\n")
    assert "n8n" not in text
    report = n8n_stack.seen.to("/v1/tasks/report")
    assert report and all(r.headers["idempotency-key"].startswith("digest-") for r in report)
    # The digest is the report the service recorded for the chat.
    reports = [r for r in await history_rows(n8n_stack, 3003) if r["task"] == "report"]
    assert len(reports) == 1
    assert json.loads(reports[0]["options"])["period"] == "week"
    assert text == "📊 <b>Tu semana</b>\n\n" + html.escape(reports[0]["output_text"], quote=False)


# --- the editor --------------------------------------------------------------------------------


async def test_editor_draws_every_workflow(n8n_stack: Stack, tmp_path: Path) -> None:
    """Each workflow opens in n8n's editor with all its nodes. With WA_N8N_SCREENSHOTS_DIR set
    (e.g. docs/img), the pictures are kept there as n8n-<flow>.png."""
    chromium, chromedriver = await asyncio.to_thread(ensure_chromium)
    await asyncio.to_thread(setup_owner, n8n_stack.n8n.url)
    keep = os.environ.get("WA_N8N_SCREENSHOTS_DIR")

    def draw_all() -> dict[str, str]:
        drawn: dict[str, str] = {}
        with Browser(chromium, chromedriver, tmp_path / "chromedriver.log") as browser:
            log_in(browser, n8n_stack.n8n.url)
            for name, flow in n8n_stack.flows.items():
                picture = tmp_path / f"n8n-{name}.png"
                drawn[name] = draw_workflow(browser, n8n_stack.n8n.url, flow, picture)
                if keep:
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(picture, Path(keep) / picture.name)
        return drawn

    drawn = await asyncio.to_thread(draw_all)
    for name, flow in n8n_stack.flows.items():
        for node in flow["nodes"]:
            if node["type"] != "n8n-nodes-base.stickyNote":
                assert node["name"] in drawn[name], (name, node["name"], drawn[name][:500])
        png = (tmp_path / f"n8n-{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000


# --- the service down (last: it stops the module's service) -------------------------------------


async def test_flows_answer_when_the_service_is_unreachable(n8n_stack: Stack) -> None:
    """After Retry On Fail gives up, the HTTP nodes' error output answers: a 502 in the service's
    error shape for webhook callers, a readable message in Telegram."""
    n8n_stack.service.stop()
    async with httpx.AsyncClient(timeout=WITHIN) as http:
        down = await http.post(
            n8n_stack.webhook_url("assistant/process"), json={"task": "summarize", "text": "Hola."}
        )
        assert down.status_code == 502, down.text
        assert down.json()["error"]["code"] == "service_unreachable"

        chat = TelegramChat(n8n_stack, http, chat_id=7007)
        reply = await chat.say("/resumir")
    assert reply == "⚠️ No puedo contactar con el servicio ahora mismo. Inténtalo en unos minutos."
