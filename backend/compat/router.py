"""The original Spanish API. Same paths, same keys, Spanish messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from backend.auth.deps import ApiKeyDep
from backend.chats import service as chats
from backend.compat.names import (
    CLEAR_MODE_NAMES,
    EMPTY_MODE_VALUES,
    HISTORY_MODE,
    HISTORY_MODE_NAMES,
    language_code,
    spanish_name,
)
from backend.compat.schemas import (
    Consulta,
    ConsultarIn,
    ConsultarInteligenteIn,
    ConsultasOut,
    EstadoIn,
    EstadoOut,
    ProcesarIn,
    ProcesarOut,
)
from backend.core.deps import RegistryDep, RunnerDep, SessionDep
from backend.core.errors import BadRequest
from backend.history.models import HistoryRecord
from backend.history.question import read_question
from backend.history.service import HistoryFilter, list_history
from backend.tasks.registry import TaskRegistry

router = APIRouter(prefix="/api/v1", tags=["compatibility (español)"])


def _mode_label(mode: str | None, registry: TaskRegistry) -> str | None:
    if mode is None:
        return None
    if mode == HISTORY_MODE:
        return "consultar"
    task = registry.find(mode)
    return spanish_name(task) if task else mode


@router.post("/estado", response_model=EstadoOut, summary="Lee, fija o limpia el modo de un chat")
async def estado(
    body: EstadoIn, key: ApiKeyDep, session: SessionDep, registry: RegistryDep
) -> EstadoOut:
    requested = (body.modo or "").strip().lstrip("/").lower()
    if requested in EMPTY_MODE_VALUES:
        current = _mode_label(await chats.get_mode(session, key.id, body.chat_id), registry)
        mensaje = f"Modo actual: {current}" if current else "No hay ningún modo activo."
        return EstadoOut(chat_id=body.chat_id, modo_actual=current, mensaje=mensaje, success=True)
    if requested in CLEAR_MODE_NAMES:
        await chats.clear_mode(session, key.id, body.chat_id)
        return EstadoOut(
            chat_id=body.chat_id, modo_actual=None, mensaje="Modo limpiado.", success=True
        )
    if requested in HISTORY_MODE_NAMES:
        await chats.set_mode(session, key.id, body.chat_id, HISTORY_MODE)
        return EstadoOut(
            chat_id=body.chat_id,
            modo_actual="consultar",
            mensaje="¿Qué quieres consultar de tu historial?",
            success=True,
        )
    task = registry.find(requested)
    if task is None:
        raise BadRequest(
            f"Modo '{body.modo}' no reconocido. Modos disponibles: "
            + ", ".join(["/" + spanish_name(t) for t in registry] + ["/consultar", "limpiar"]),
            code="unknown_mode",
        )
    await chats.set_mode(session, key.id, body.chat_id, task.name)
    return EstadoOut(
        chat_id=body.chat_id, modo_actual=spanish_name(task), mensaje=task.mode_prompt, success=True
    )


@router.post("/procesar", response_model=ProcesarOut, summary="Procesa un texto con una tarea")
async def procesar(
    body: ProcesarIn,
    key: ApiKeyDep,
    session: SessionDep,
    registry: RegistryDep,
    runner: RunnerDep,
) -> ProcesarOut:
    from_mode = body.tipo_tarea is None or not body.tipo_tarea.strip()
    requested = (
        body.tipo_tarea if not from_mode else await chats.get_mode(session, key.id, body.chat_id)
    )
    if not requested:
        raise BadRequest(
            "No hay tipo_tarea ni modo activo para este chat. Indica tipo_tarea "
            "(resumir, traducir, clasificar...) o elige un modo con /api/v1/estado.",
            code="no_task",
        )
    if requested in HISTORY_MODE_NAMES or requested == HISTORY_MODE:
        if from_mode:
            await chats.clear_mode(session, key.id, body.chat_id)
        page = await _smart_query(key.id, body.chat_id, body.texto, session, registry)
        resultado = "\n".join(f"- [{c.tipo_tarea}] {c.resultado}" for c in page.consultas)
        return ProcesarOut(
            chat_id=body.chat_id,
            resultado=resultado or page.mensaje,
            tipo_tarea="consultar",
            success=True,
            mensaje=page.mensaje,
        )
    task = registry.find(requested)
    if task is None:
        raise BadRequest(f"Tipo de tarea '{requested}' no reconocido.", code="unknown_task")
    raw_options: dict[str, Any] = {}
    if task.name == "translate":
        raw_options["target_language"] = language_code(body.idioma)
    outcome = await runner.run(
        task, body.texto, task.parse_options(raw_options), api_key_id=key.id, chat_id=body.chat_id
    )
    if from_mode:
        await chats.clear_mode(session, key.id, body.chat_id)
    return ProcesarOut(
        chat_id=body.chat_id,
        resultado=outcome.output,
        tipo_tarea=spanish_name(task),
        success=True,
        mensaje=f"Tarea '{spanish_name(task)}' completada.",
    )


def _consulta(row: HistoryRecord, registry: TaskRegistry) -> Consulta:
    task = registry.find(row.task)
    return Consulta(
        id=str(row.id),
        tipo_tarea=spanish_name(task) if task else row.task,
        texto_original=row.input_text,
        resultado=row.output_text,
        idioma=row.language,
        fecha=row.created_at,
    )


def _consultas(rows: list[HistoryRecord], registry: TaskRegistry) -> ConsultasOut:
    consultas = [_consulta(row, registry) for row in rows]
    mensaje = (
        f"Se encontraron {len(consultas)} consultas."
        if consultas
        else "No se encontraron consultas."
    )
    return ConsultasOut(consultas=consultas, total=len(consultas), success=True, mensaje=mensaje)


@router.post("/consultar", response_model=ConsultasOut, summary="Historial de un chat")
async def consultar(
    body: ConsultarIn, key: ApiKeyDep, session: SessionDep, registry: RegistryDep
) -> ConsultasOut:
    task = registry.get(body.tipo_tarea).name if body.tipo_tarea else None
    rows, _ = await list_history(
        session, HistoryFilter(api_key_id=key.id, chat_id=body.chat_id, task=task, limit=body.limit)
    )
    return _consultas(rows, registry)


async def _smart_query(
    api_key_id: int, chat_id: int, question: str, session: SessionDep, registry: TaskRegistry
) -> ConsultasOut:
    names = [(task.name, task.mode_names()) for task in registry]
    reading = read_question(question, names, datetime.now(UTC))
    # The scope (key and chat) comes from the request, never from the question.
    query = HistoryFilter(
        api_key_id=api_key_id,
        chat_id=chat_id,
        task=reading.task,
        since=reading.since,
        until=reading.until,
        contains=reading.contains,
        limit=reading.limit,
        newest_first=reading.order == "desc",
    )
    rows, _ = await list_history(session, query)
    return _consultas(rows, registry)


@router.post(
    "/consultar-inteligente",
    response_model=ConsultasOut,
    summary="Historial a partir de una pregunta en lenguaje natural",
)
async def consultar_inteligente(
    body: ConsultarInteligenteIn, key: ApiKeyDep, session: SessionDep, registry: RegistryDep
) -> ConsultasOut:
    return await _smart_query(key.id, body.chat_id, body.texto, session, registry)
