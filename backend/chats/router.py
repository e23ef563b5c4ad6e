"""`/v1/chats/{chat_id}/mode`: which task a chat's next text goes to."""

from __future__ import annotations

from fastapi import APIRouter

from backend.auth.deps import ApiKeyDep
from backend.chats import service
from backend.chats.schemas import ModeIn, ModeOut
from backend.core.deps import RegistryDep, SessionDep
from backend.core.types import ChatId

router = APIRouter(prefix="/v1/chats", tags=["chats"])


@router.get("/{chat_id}/mode", response_model=ModeOut, summary="The chat's mode")
async def read_mode(chat_id: ChatId, key: ApiKeyDep, session: SessionDep) -> ModeOut:
    return ModeOut(chat_id=chat_id, mode=await service.get_mode(session, key.id, chat_id))


@router.put("/{chat_id}/mode", response_model=ModeOut, summary="Set the chat's mode")
async def write_mode(
    chat_id: ChatId, body: ModeIn, key: ApiKeyDep, session: SessionDep, registry: RegistryDep
) -> ModeOut:
    task = registry.get(body.mode)
    await service.set_mode(session, key.id, chat_id, task.name)
    return ModeOut(chat_id=chat_id, mode=task.name)


@router.delete("/{chat_id}/mode", response_model=ModeOut, summary="Clear the chat's mode")
async def delete_mode(chat_id: ChatId, key: ApiKeyDep, session: SessionDep) -> ModeOut:
    await service.clear_mode(session, key.id, chat_id)
    return ModeOut(chat_id=chat_id, mode=None)
