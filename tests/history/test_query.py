"""GET /v1/history filters and keyset pagination, and the streamed CSV / JSON Lines export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

from tests.conftest import AUTH, AppFactory
from tests.history.helpers import bootstrap_key_id, other_key, seed

NOW = datetime.now(UTC).replace(microsecond=0)


async def test_filters_combine_and_stay_within_the_callers_key(make_client: AppFactory) -> None:
    async with make_client() as client:
        me = await bootstrap_key_id(client)
        other_id, other = await other_key(client)
        await seed(client, me, task="summarize", at=NOW - timedelta(days=3), text="old summary")
        await seed(client, me, task="summarize", at=NOW - timedelta(hours=1), text="fresh summary")
        await seed(client, me, task="translate", at=NOW - timedelta(hours=2), text="hola amigo")
        await seed(client, me, task="summarize", chat_id=2, text="other chat summary")
        await seed(client, other_id, task="summarize", text="fresh summary of someone else")

        async def texts(query: str, headers: dict[str, str] = AUTH) -> list[str]:
            params = dict(part.split("=", 1) for part in query.split("&"))
            response = await client.get("/v1/history", params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [item["input_text"] for item in response.json()["items"]]

        assert await texts("chat_id=1&task=resumir") == ["fresh summary", "old summary"]
        assert await texts("chat_id=1&task=traducción") == ["hola amigo"]
        since = (NOW - timedelta(days=1)).isoformat()
        assert await texts(f"chat_id=1&since={since}") == ["fresh summary", "hola amigo"]
        until = (NOW - timedelta(days=1)).replace(tzinfo=None).isoformat()  # naive = UTC
        assert await texts(f"until={until}") == ["old summary"]
        # An offset is honoured: 90 minutes before NOW, written in UTC+02:00.
        local = (NOW - timedelta(hours=1, minutes=30)).astimezone(timezone(timedelta(hours=2)))
        assert await texts(f"chat_id=1&since={local.isoformat()}") == ["fresh summary"]
        assert await texts("q=FRESH") == ["fresh summary"]
        assert await texts("q=100%") == []  # LIKE wildcards are literal
        assert await texts("q=_") == []
        assert await texts("q=fresh", other) == ["fresh summary of someone else"]

        unknown = await client.get("/v1/history?task=dance", headers=AUTH)
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_task"


async def test_cursor_pages_through_identical_timestamps(make_client: AppFactory) -> None:
    async with make_client() as client:
        me = await bootstrap_key_id(client)
        for i in range(7):
            await seed(client, me, at=NOW, text=f"same instant {i}")
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            url = "/v1/history?limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = (await client.get(url, headers=AUTH)).json()
            seen += [item["id"] for item in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3 and len(seen) == len(set(seen)) == 7


async def test_export_streams_every_matching_record_as_jsonl_and_csv(
    make_client: AppFactory,
) -> None:
    async with make_client() as client:
        me = await bootstrap_key_id(client)
        other_id, _ = await other_key(client)
        resources = client.app.state.resources  # type: ignore[attr-defined]
        import asyncio

        # More than two export pages (500 each).
        await asyncio.gather(
            *(seed(client, me, at=NOW - timedelta(seconds=i), text=f"row {i}") for i in range(1100))
        )
        await seed(client, me, task="translate", text='=HYPERLINK("http://evil")')
        await seed(client, other_id, text="not mine")
        await resources.recorder.flush()

        jsonl = await client.get("/v1/history/export?format=jsonl&task=summarize", headers=AUTH)
        assert jsonl.status_code == 200
        assert jsonl.headers["content-type"].startswith("application/x-ndjson")
        assert "attachment" in jsonl.headers["content-disposition"]
        items = [json.loads(line) for line in jsonl.text.splitlines()]
        assert len(items) == 1100 == len({i["id"] for i in items})
        assert items[0]["input_text"] == "row 0" and items[-1]["input_text"] == "row 1099"
        assert all(i["task"] == "summarize" for i in items)

        exported = await client.get("/v1/history/export?format=csv&q=HYPERLINK", headers=AUTH)
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(rows) == 1
        # A formula in a user's text is exported as text, not run by the spreadsheet.
        assert rows[0]["input_text"] == '\'=HYPERLINK("http://evil")'
        assert json.loads(rows[0]["result"]) == {"text": '=HYPERLINK("http://evil")'}

        everything = await client.get("/v1/history/export?format=csv", headers=AUTH)
        assert "not mine" not in everything.text
        assert len(list(csv.DictReader(io.StringIO(everything.text)))) == 1101

        empty = await client.get("/v1/history/export?format=csv&q=nothing-like-this", headers=AUTH)
        assert empty.text.strip().split(",")[0] == "id"  # just the header

        bad = await client.get("/v1/history/export?format=xml", headers=AUTH)
        assert bad.status_code == 422
        anonymous = await client.get("/v1/history/export")
        assert anonymous.status_code == 401
