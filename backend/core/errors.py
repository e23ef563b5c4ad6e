"""Domain errors carry their HTTP status; one set of handlers renders them all in one JSON shape:

{"error": {"code": "stable_code", "message": "what a person understands", "details": {...}}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error we answer on purpose. Subclasses set `status_code` and `code`."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class BadRequest(AppError):
    status_code, code = 400, "bad_request"


class Unauthorized(AppError):
    status_code, code = 401, "unauthorized"

    def __init__(self, message: str = "A valid API key is required (x-api-key or Bearer).") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class Conflict(AppError):
    status_code, code = 409, "conflict"


class PayloadTooLarge(AppError):
    status_code, code = 413, "payload_too_large"


class Unprocessable(AppError):
    status_code, code = 422, "validation_error"


class PaymentRequired(AppError):
    status_code, code = 402, "budget_exceeded"


class RateLimited(AppError):
    status_code, code = 429, "rate_limited"


class UpstreamError(AppError):
    status_code, code = 502, "llm_error"


class ServiceUnavailable(AppError):
    status_code, code = 503, "service_unavailable"


class UpstreamTimeout(AppError):
    status_code, code = 504, "llm_timeout"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable error code.")
    message: str = Field(description="What went wrong, for a person.")
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    """The one error shape every endpoint answers with."""

    error: ErrorDetail


# Documented on every route (OpenAPI), so clients and fuzzers know the error shape.
COMMON_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in [
        (400, "Bad request"),
        (401, "Missing or invalid API key"),
        (402, "Monthly budget of the API key exhausted"),
        (404, "Not found"),
        (409, "Idempotency-Key reused with a different request"),
        (413, "Body or text too large"),
        (422, "Invalid input"),
        (429, "Rate limited"),
        (500, "Unexpected error"),
        (503, "A dependency is unavailable"),
    ]
}


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "budget_exceeded",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    errors = []
    for err in exc.errors():
        # Never echo the whole input back: it may be a huge text.
        errors.append(
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return {"errors": errors}


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    msg = str(first.get("msg", "invalid request"))
    return f"Invalid request: {loc}: {msg}" if loc else f"Invalid request: {msg}"


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(
            422, "validation_error", _validation_message(exc), _validation_details(exc)
        )

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "No such endpoint."
        if exc.status_code == 400 and message == "There was an error parsing the body":
            code, message = "invalid_body", "The body is not valid JSON in UTF-8."
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, message, headers=headers)

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The trace goes to the log for operators; the caller gets the stable shape only.
        logger.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "Unexpected error; it has been logged.")

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
