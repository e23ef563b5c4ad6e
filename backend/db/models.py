"""Imports every model so `Base.metadata` is complete (Alembic and tests rely on it)."""

from backend.auth.models import ApiKey
from backend.chats.models import ChatMode
from backend.db.base import Base
from backend.history.models import HistoryRecord
from backend.jobs.models import CallbackSecret, Job

__all__ = ["ApiKey", "Base", "CallbackSecret", "ChatMode", "HistoryRecord", "Job"]
