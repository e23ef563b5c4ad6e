"""History reads (own records only, filters, pagination) and per-chat modes."""

from __future__ import annotations

from tests.conftest import AUTH, AppFactory


async def _other_key(client: object) -> dict[str, str]:
    from backend.auth.service import create_key
    from tests.conftest import app_of

    resources = app_of(client).state.resources  # type: ignore[arg-type]
    async with resources.sessionmaker() as session, session.begin():
        _, raw = await create_key(session, "other")
    return {"x-api-key": raw}


async def test_history_is_filtered_paginated_and_private(make_client: AppFactory) -> None:
    async with make_client() as client:
        other = await _other_key(client)
        for i in range(5):
            await client.post(
                "/v1/tasks/summarize",
                json={"text": f"Texto número {i}. Segunda frase.", "chat_id": 1},
                headers=AUTH,
            )
        await client.post(
            "/v1/tasks/classify", json={"text": "¿Cómo va?", "chat_id": 2}, headers=AUTH
        )
        await client.post(
            "/v1/tasks/summarize", json={"text": "Secreto de otro.", "chat_id": 1}, headers=other
        )

        everything = (await client.get("/v1/history", headers=AUTH)).json()
        assert len(everything["items"]) == 6
        assert all("Secreto" not in item["input_text"] for item in everything["items"])
        # Newest first.
        stamps = [item["created_at"] for item in everything["items"]]
        assert stamps == sorted(stamps, reverse=True)

        chat1 = (await client.get("/v1/history?chat_id=1&task=resumir", headers=AUTH)).json()
        assert len(chat1["items"]) == 5
        assert {item["task"] for item in chat1["items"]} == {"summarize"}

        page1 = (await client.get("/v1/history?limit=4", headers=AUTH)).json()
        assert len(page1["items"]) == 4 and page1["next_cursor"]
        page2 = (
            await client.get(f"/v1/history?limit=4&cursor={page1['next_cursor']}", headers=AUTH)
        ).json()
        assert len(page2["items"]) == 2 and page2["next_cursor"] is None
        ids = [i["id"] for i in page1["items"] + page2["items"]]
        assert ids == [i["id"] for i in everything["items"]]

        found = (await client.get("/v1/history?q=número 3", headers=AUTH)).json()
        assert [i["input_text"] for i in found["items"]] == ["Texto número 3. Segunda frase."]

        one = everything["items"][0]
        detail = await client.get(f"/v1/history/{one['id']}", headers=AUTH)
        assert detail.status_code == 200 and detail.json()["id"] == one["id"]
        hidden = await client.get(f"/v1/history/{one['id']}", headers=other)
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "history_not_found"

        bad_cursor = await client.get("/v1/history?cursor=nonsense", headers=AUTH)
        assert bad_cursor.status_code == 400
        assert bad_cursor.json()["error"]["code"] == "invalid_cursor"
        too_many = await client.get("/v1/history?limit=1000", headers=AUTH)
        assert too_many.status_code == 422


async def test_chat_mode_roundtrip(make_client: AppFactory) -> None:
    async with make_client() as client:
        other = await _other_key(client)
        assert (await client.get("/v1/chats/7/mode", headers=AUTH)).json() == {
            "chat_id": 7,
            "mode": None,
        }
        put = await client.put("/v1/chats/7/mode", json={"mode": "traducir"}, headers=AUTH)
        assert put.json() == {"chat_id": 7, "mode": "translate"}
        assert (await client.get("/v1/chats/7/mode", headers=AUTH)).json()["mode"] == "translate"
        assert (await client.get("/v1/chats/7/mode", headers=other)).json()["mode"] is None
        bad = await client.put("/v1/chats/7/mode", json={"mode": "dance"}, headers=AUTH)
        assert bad.status_code == 404 and bad.json()["error"]["code"] == "unknown_task"
        await client.delete("/v1/chats/7/mode", headers=AUTH)
        assert (await client.get("/v1/chats/7/mode", headers=AUTH)).json()["mode"] is None
