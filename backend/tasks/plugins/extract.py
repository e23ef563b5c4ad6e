"""extract (extraer): people, organizations, places, dates, amounts, emails, URLs and phones.

With the LLM the answer is structured output (the result's JSON schema, validated, repaired once).
`options.fields` asks for custom fields too (a list of names, or names with descriptions), and
`options.json_schema` gives their exact JSON schema. Offline, regular expressions and heuristics for
Spanish and English fill the standard lists, and custom fields whose names match a standard kind.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from backend.llm.chunking import map_limited, split_text, text_budget
from backend.llm.schemas import ChatMessage, LLMClient
from backend.llm.structured import (
    StructuredOutputError,
    complete_structured,
    schema_format,
    validate_answer,
)
from backend.offline.extractor import extract
from backend.offline.text import fold
from backend.offline.tokens import estimate_tokens
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    wrap_text,
)

MAX_FIELDS = 30
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# ISO 8601: a date, a month, or a date and time (optionally with seconds and a zone).
_ISO = re.compile(
    r"^\d{4}-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?$"
)


class ExtractOptions(TaskOptions):
    fields: dict[str, str] | list[str] | None = Field(
        default=None,
        description="Custom fields to extract: a list of names, or {name: description}.",
    )
    json_schema: dict[str, Any] | None = Field(
        default=None,
        description="JSON schema (an object) of the custom fields; overrides `fields`.",
    )

    @field_validator("fields")
    @classmethod
    def _check_fields(cls, value: dict[str, str] | list[str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        named = dict.fromkeys(value, "") if isinstance(value, list) else dict(value)
        if not named or len(named) > MAX_FIELDS:
            raise ValueError(f"give between 1 and {MAX_FIELDS} fields")
        for name, description in named.items():
            if not _FIELD_NAME.match(name):
                raise ValueError(f"field names are identifiers (letters, digits, _): {name!r}")
            if len(description) > 200:
                raise ValueError("field descriptions are at most 200 characters")
        return named

    @field_validator("json_schema")
    @classmethod
    def _check_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if value.get("type") != "object" or not isinstance(value.get("properties"), dict):
            raise ValueError('must be a JSON schema with "type": "object" and "properties"')
        if len(value["properties"]) > MAX_FIELDS or len(json.dumps(value)) > 8000:
            raise ValueError(f"at most {MAX_FIELDS} properties and 8000 characters")
        return value

    @model_validator(mode="after")
    def _schema_or_fields(self) -> ExtractOptions:
        if self.json_schema is not None and self.fields is not None:
            raise ValueError("give `fields` or `json_schema`, not both")
        return self

    def custom_schema(self) -> dict[str, Any] | None:
        if self.json_schema is not None:
            return self.json_schema
        if not self.fields:
            return None
        named = self.fields if isinstance(self.fields, dict) else dict.fromkeys(self.fields, "")
        return {
            "type": "object",
            "properties": {
                name: {"description": text} if text else {} for name, text in named.items()
            },
            "required": list(named),
        }


class DateValue(BaseModel):
    text: str = Field(description="The date as written in the text.")
    value: str = Field(description="ISO 8601: YYYY-MM-DD, YYYY-MM or YYYY-MM-DDTHH:MM.")

    @field_validator("value")
    @classmethod
    def _iso(cls, value: str) -> str:
        if not _ISO.match(value.strip()):
            raise ValueError("must be an ISO 8601 date such as 2026-03-03")
        return value.strip()


class AmountValue(BaseModel):
    text: str = Field(description="The amount as written in the text.")
    value: float
    currency: str | None = Field(default=None, description="ISO 4217 code, e.g. EUR.")
    unit: str | None = Field(default=None, description="Unit such as kg, km or %.")


class ExtractionResult(BaseModel):
    people: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    dates: list[DateValue] = Field(default_factory=list)
    amounts: list[AmountValue] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    fields: dict[str, Any] | None = Field(
        default=None, description="The custom fields asked for in the options (null if none)."
    )


# Which standard list answers a custom field, by (accent-folded) words in its name.
_FIELD_KINDS = {
    "people": ("person", "people", "persona", "nombre", "name", "contact", "contacto", "cliente"),
    "organizations": ("org", "company", "empresa", "compania", "organizacion", "organization"),
    "places": ("place", "lugar", "city", "ciudad", "location", "ubicacion", "pais", "country"),
    "dates": ("date", "fecha", "day", "dia", "deadline", "plazo", "when", "cuando"),
    "amounts": ("amount", "importe", "price", "precio", "total", "cost", "coste", "money"),
    "emails": ("email", "mail", "correo"),
    "urls": ("url", "link", "enlace", "web"),
    "phones": ("phone", "telefono", "movil", "mobile", "tel"),
}


class ExtractTask(Task[ExtractOptions, ExtractionResult]):
    name = "extract"
    aliases = ("extraer", "extraccion", "extracción")
    title = "Extract"
    description = (
        "People, organizations, places, dates (ISO 8601), amounts, emails, URLs and phones in "
        "the text, plus custom fields."
    )
    mode_prompt = "¿De qué texto quieres extraer datos?"
    options_model = ExtractOptions
    result_model = ExtractionResult
    json_output = True

    def cache_salt(self, now: datetime) -> str:
        # "next Friday" and "mañana" resolve against the request's date.
        return now.date().isoformat()

    def build_messages(
        self, text: str, options: ExtractOptions, ctx: TaskContext
    ) -> list[ChatMessage]:
        custom = options.custom_schema()
        custom_part = (
            " Also fill `fields` with these custom fields (null when absent): "
            + json.dumps(custom, ensure_ascii=False)
            + "."
            if custom
            else " Leave `fields` null."
        )
        system = (
            "You extract information from texts. Return JSON with: people, organizations, places "
            "(names as written), dates (each {text, value} with value in ISO 8601; resolve "
            f"relative dates against today, {ctx.now.date().isoformat()}), amounts (each {{text, "
            "value, currency as ISO 4217, unit}}), emails, urls and phones. Only what the text "
            f"says; empty lists when nothing is found.{custom_part} {DATA_NOT_INSTRUCTIONS}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]

    def _schema(self, options: ExtractOptions) -> dict[str, Any]:
        schema = ExtractionResult.model_json_schema()
        custom = options.custom_schema()
        if custom:
            schema["properties"]["fields"] = custom
            schema["required"] = [*schema.get("required", []), "fields"]
        return schema

    def _check(self, options: ExtractOptions) -> Any:
        custom = options.custom_schema()

        def check(result: ExtractionResult) -> ExtractionResult:
            if custom:
                missing = [
                    key for key in custom.get("required", []) if key not in (result.fields or {})
                ]
                if missing:
                    raise ValueError(f"`fields` lacks: {', '.join(missing)}")
            return result

        return check

    async def run_llm(
        self, llm: LLMClient, text: str, options: ExtractOptions, ctx: TaskContext
    ) -> ExtractionResult:
        limits = ctx.limits
        reserve = min(limits.output_tokens, limits.context_tokens // 4)
        schema = self._schema(options)
        # The instructions and the schema (response_format or prompt) travel with every call.
        budget = text_budget(
            limits.context_tokens,
            reserve,
            *(m["content"] for m in self.build_messages("", options, ctx)),
            json.dumps(schema_format("extraction", schema), separators=(",", ":")),
        )
        # A text over the context is read chunk by chunk and the findings merged.
        chunks = split_text(text, budget) if estimate_tokens(text) > budget else [text]

        async def one(index: int, chunk: str) -> ExtractionResult:
            return await complete_structured(
                llm,
                self.build_messages(chunk, options, ctx),
                ExtractionResult,
                name="extraction",
                mode=limits.structured_output,
                schema=schema,
                check=self._check(options),
                max_tokens=reserve if len(chunks) > 1 else None,
            )

        return _merge(await map_limited(chunks, one, limits.chunk_concurrency))

    def parse(self, raw: str, options: ExtractOptions, ctx: TaskContext) -> ExtractionResult:
        try:
            return validate_answer(raw, ExtractionResult, self._check(options))
        except StructuredOutputError as exc:
            raise LLMBadOutput(exc.reason, details={"errors": exc.errors}) from exc

    def render(self, result: ExtractionResult) -> str:
        lines = []
        for label, values in (
            ("people", result.people),
            ("organizations", result.organizations),
            ("places", result.places),
            ("dates", [f"{d.text} ({d.value})" for d in result.dates]),
            ("amounts", [a.text for a in result.amounts]),
            ("emails", result.emails),
            ("urls", result.urls),
            ("phones", result.phones),
        ):
            if values:
                lines.append(f"{label}: {', '.join(values)}")
        for key, value in (result.fields or {}).items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"{key}: {shown}")
        return "\n".join(lines) or "-"

    def run_offline(self, text: str, options: ExtractOptions, ctx: TaskContext) -> ExtractionResult:
        found = extract(text, ctx.now, ctx.language)
        result = ExtractionResult(
            people=found.people,
            organizations=found.organizations,
            places=found.places,
            dates=[DateValue(text=d.text, value=d.value) for d in found.dates],
            amounts=[
                AmountValue(text=a.text, value=a.value, currency=a.currency, unit=a.unit)
                for a in found.amounts
            ],
            emails=found.emails,
            urls=found.urls,
            phones=found.phones,
        )
        custom = options.custom_schema()
        if custom:
            result.fields = {
                name: _offline_field(name, result) for name in custom.get("properties", {})
            }
        return result


def _merge(parts: list[ExtractionResult]) -> ExtractionResult:
    """One result from the chunks' results: lists joined without repeats, first value per field."""
    if len(parts) == 1:
        return parts[0]
    merged = ExtractionResult()
    for part in parts:
        for name in ("people", "organizations", "places", "emails", "urls", "phones"):
            target: list[str] = getattr(merged, name)
            target.extend(v for v in getattr(part, name) if v not in target)
        merged.dates.extend(d for d in part.dates if d not in merged.dates)
        merged.amounts.extend(a for a in part.amounts if a not in merged.amounts)
        if part.fields is not None:
            fields = merged.fields if merged.fields is not None else {}
            for key, value in part.fields.items():
                if fields.get(key) is None:
                    fields[key] = value
            merged.fields = fields
    return merged


def _offline_field(name: str, result: ExtractionResult) -> Any:
    """The first standard value whose kind the field's name suggests, or None."""
    words = set(re.split(r"[_\W]+", fold(name)))
    for kind, hints in _FIELD_KINDS.items():
        if words & set(hints):
            values: list[Any] = getattr(result, kind)
            if not values:
                return None
            first = values[0]
            if isinstance(first, DateValue):
                return first.value
            if isinstance(first, AmountValue):
                return first.value
            return first
    return None


TASK = ExtractTask()
