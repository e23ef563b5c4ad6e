"""Discovers task plugins: every module in `backend.tasks.plugins` that defines `TASK`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

from backend.core.errors import NotFound
from backend.tasks import plugins
from backend.tasks.base import Task

AnyTask = Task[Any, Any]


class TaskRegistry:
    def __init__(self, tasks: list[AnyTask]) -> None:
        self._tasks: dict[str, AnyTask] = {}
        self._lookup: dict[str, AnyTask] = {}
        for task in sorted(tasks, key=lambda t: t.name):
            for name in task.mode_names():
                key = _normalize(name)
                if key in self._lookup:
                    raise RuntimeError(f"task name {name!r} is defined twice")
                self._lookup[key] = task
            self._tasks[task.name] = task

    @classmethod
    def discover(cls) -> TaskRegistry:
        found: list[AnyTask] = []
        for module_info in pkgutil.iter_modules(plugins.__path__):
            module = importlib.import_module(f"{plugins.__name__}.{module_info.name}")
            task = getattr(module, "TASK", None)
            if isinstance(task, Task):
                found.append(task)
        return cls(found)

    def find(self, name: str) -> AnyTask | None:
        """By canonical name or alias, case-insensitive, with or without a leading '/'."""
        return self._lookup.get(_normalize(name))

    def get(self, name: str) -> AnyTask:
        task = self.find(name)
        if task is None:
            raise NotFound(
                f"Unknown task '{name}'. Available: {', '.join(self.names())}.",
                code="unknown_task",
                details={"available": self.names()},
            )
        return task

    def names(self) -> list[str]:
        return list(self._tasks)

    def __iter__(self) -> Iterator[AnyTask]:
        return iter(self._tasks.values())


def _normalize(name: str) -> str:
    return name.strip().lstrip("/").lower()
