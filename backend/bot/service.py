"""What the bot does, in-process, with the service layer the API uses: the same chat mode store,
the same TaskRunner (cache, LLM, history) and the same history reader. No HTTP to itself.

Each operation is one short unit of work; as everywhere, the services don't commit, this layer
(like the request session in the API) does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from backend.chats import service as chats
from backend.compat.names import HISTORY_MODE, language_code
from backend.core.resources import Resources
from backend.history.models import HistoryRecord
from backend.history.question import read_question
from backend.history.service import HistoryFilter, list_history
from backend.tasks.base import Task
from backend.tasks.registry import TaskRegistry
from backend.tasks.service import TaskOutcome

RECENT_HISTORY = 5
# The options chosen with a mode (/traducir fr) wait for the next text this long.
MODE_OPTIONS_TTL = 24 * 3600


class BotService:
    def __init__(
        self, resources: Resources, api_key_id: int, *, budget_usd: float | None = None
    ) -> None:
        self.resources = resources
        self.api_key_id = api_key_id
        # The bot key's monthly budget (read at start), enforced by the runner as for the API.
        self.budget_usd = budget_usd

    @property
    def registry(self) -> TaskRegistry:
        return self.resources.registry

    # --- modes (the API's per-(key, chat) store) ------------------------------------------------
    async def get_mode(self, chat_id: int) -> str | None:
        async with self.resources.sessionmaker() as session:
            return await chats.get_mode(session, self.api_key_id, chat_id)

    async def set_mode(
        self, chat_id: int, mode: str, options: dict[str, Any] | None = None
    ) -> None:
        async with self.resources.sessionmaker() as session, session.begin():
            await chats.set_mode(session, self.api_key_id, chat_id, mode)
        # The store keeps only the mode's name; its options (a target language) live beside it.
        await self.resources.cache.set(
            self._options_key(chat_id), json.dumps(options or {}), MODE_OPTIONS_TTL
        )

    async def clear_mode(self, chat_id: int) -> None:
        async with self.resources.sessionmaker() as session, session.begin():
            await chats.clear_mode(session, self.api_key_id, chat_id)
        await self.resources.cache.set(self._options_key(chat_id), "{}", MODE_OPTIONS_TTL)

    async def mode_and_options(self, chat_id: int) -> tuple[str | None, dict[str, Any]]:
        """The chat's mode and the options chosen with it."""
        mode = await self.get_mode(chat_id)
        if mode is None:
            return None, {}
        raw = await self.resources.cache.get(self._options_key(chat_id))
        try:
            options = json.loads(raw) if raw else {}
        except ValueError:
            options = {}
        return mode, options if isinstance(options, dict) else {}

    def _options_key(self, chat_id: int) -> str:
        return f"bot:mode-options:{self.api_key_id}:{chat_id}"

    # --- tasks ------------------------------------------------------------------------------------
    async def run_task(
        self, task: Task[Any, Any], text: str, chat_id: int, options: dict[str, Any]
    ) -> TaskOutcome:
        raw = dict(options)
        if "target_language" in raw:
            raw["target_language"] = language_code(str(raw["target_language"]))
        return await self.resources.runner.run(
            task,
            text,
            task.parse_options(raw),
            api_key_id=self.api_key_id,
            chat_id=chat_id,
            budget_usd=self.budget_usd,
        )

    # --- history ----------------------------------------------------------------------------------
    async def history(self, chat_id: int, question: str | None) -> list[HistoryRecord]:
        """This chat's recent records, or those a plain-language question asks for."""
        query = HistoryFilter(api_key_id=self.api_key_id, chat_id=chat_id, limit=RECENT_HISTORY)
        if question and question.strip():
            names = [(task.name, task.mode_names()) for task in self.registry]
            reading = read_question(question, names, datetime.now(UTC))
            # The scope (key and chat) comes from the update, never from the question.
            query = HistoryFilter(
                api_key_id=self.api_key_id,
                chat_id=chat_id,
                task=reading.task,
                since=reading.since,
                until=reading.until,
                contains=reading.contains,
                limit=reading.limit,
                newest_first=reading.order == "desc",
            )
        async with self.resources.sessionmaker() as session:
            rows, _ = await list_history(session, query)
        return rows

    def is_history_mode(self, mode: str) -> bool:
        return mode == HISTORY_MODE
