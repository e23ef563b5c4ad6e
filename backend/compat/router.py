"""The original Spanish API. Same paths, same keys, Spanish messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.deps import ApiKeyDep
from backend.auth.service import AuthenticatedKey
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
from backend.core.deps import RegistryDep, ResourcesDep, RunnerDep, SessionDep
from backend.core.errors import BadRequest
from backend.core.resources import Resources
from backend.history.ask import ask_history
from backend.history.models import HistoryRecord
from backend.history.service import HistoryFilter, list_history
from backend.idempotency.deps import IdempotencyKeyHeader, respond_once
from backend.tasks.registry import TaskRegistry
from backend.tasks.service import TaskRunner

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
    resources: ResourcesDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ProcesarOut:
    async def compute() -> dict[str, Any]:
        out = await _procesar(body, key, session, registry, runner, resources)
        return out.model_dump(mode="json")

    stored = await respond_once(
        resources,
        response,
        api_key_id=key.id,
        idempotency_key=idempotency_key,
        scope="procesar",
        body=body.model_dump(mode="json"),
        compute=compute,
    )
    return ProcesarOut.model_validate(stored)


async def _procesar(
    body: ProcesarIn,
    key: AuthenticatedKey,
    session: AsyncSession,
    registry: TaskRegistry,
    runner: TaskRunner,
    resources: Resources,
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
        page = await _smart_query(key.id, body.chat_id, body.texto, session, resources)
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
        task,
        body.texto,
        task.parse_options(raw_options),
        api_key_id=key.id,
        chat_id=body.chat_id,
        budget_usd=key.monthly_budget_usd,
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
    api_key_id: int, chat_id: int, question: str, session: SessionDep, resources: ResourcesDep
) -> ConsultasOut:
    # The LLM (or, without one, the rule-based reader) reads the question; the scope (key and
    # chat) comes from the request, never from the question.
    result = await ask_history(
        session,
        llm=resources.llm,
        registry=resources.registry,
        api_key_id=api_key_id,
        chat_id=chat_id,
        question=question,
    )
    return _consultas(result.rows, resources.registry)


@router.post(
    "/consultar-inteligente",
    response_model=ConsultasOut,
    summary="Historial a partir de una pregunta en lenguaje natural",
)
async def consultar_inteligente(
    body: ConsultarInteligenteIn, key: ApiKeyDep, session: SessionDep, resources: ResourcesDep
) -> ConsultasOut:
    return await _smart_query(key.id, body.chat_id, body.texto, session, resources)
