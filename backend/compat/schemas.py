from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from backend.core.types import NON_BLANK, ChatId


class EstadoIn(BaseModel):
    chat_id: ChatId
    modo: str | None = None


class EstadoOut(BaseModel):
    chat_id: ChatId
    modo_actual: str | None
    mensaje: str
    success: bool


class ProcesarIn(BaseModel):
    chat_id: ChatId
    texto: str = Field(min_length=1, pattern=NON_BLANK)
    tipo_tarea: str | None = None
    idioma: str | None = None


class ProcesarOut(BaseModel):
    chat_id: ChatId
    resultado: str
    tipo_tarea: str
    success: bool
    mensaje: str


class ConsultarIn(BaseModel):
    chat_id: ChatId
    tipo_tarea: str | None = None
    limit: int = Field(default=5, ge=1, le=100)


class ConsultarInteligenteIn(BaseModel):
    chat_id: ChatId
    texto: str = Field(min_length=1, max_length=1000, pattern=NON_BLANK)


class Consulta(BaseModel):
    id: str
    tipo_tarea: str
    texto_original: str
    resultado: str
    idioma: str | None
    fecha: datetime


class ConsultasOut(BaseModel):
    consultas: list[Consulta]
    total: int
    success: bool
    mensaje: str
