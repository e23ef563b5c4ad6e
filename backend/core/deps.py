"""Annotated dependency aliases: how routes get settings, the DB session and shared resources.

Every dependency is `async def`, even trivial ones: FastAPI runs plain `def` dependencies in a
thread pool, and that hop showed up in the hot path's profile.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings
from backend.core.resources import Resources
from backend.tasks.registry import TaskRegistry
from backend.tasks.service import TaskRunner


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """The request's session owns the transaction: commit when the route returns, else roll back.

    scope="function" makes the commit happen before the response is sent, so a failed commit is
    reported to the caller instead of being lost.
    """
    async with resources.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_registry(resources: ResourcesDep) -> TaskRegistry:
    return resources.registry


async def get_runner(resources: ResourcesDep) -> TaskRunner:
    return resources.runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
RegistryDep = Annotated[TaskRegistry, Depends(get_registry)]
RunnerDep = Annotated[TaskRunner, Depends(get_runner)]
