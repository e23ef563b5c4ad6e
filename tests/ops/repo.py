"""Reading the deployment files of the repository, for the structure and cross-reference tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from backend.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def load_yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def settings_env_names() -> set[str]:
    """Every environment variable the service reads (pydantic-settings: field names, any case)."""
    return {name.upper() for name in Settings.model_fields}


def env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.M))


# PromQL words that look like metric names but are not.
_PROMQL_WORDS = {
    "sum", "by", "without", "rate", "irate", "increase", "max", "min", "avg", "count", "on",
    "histogram_quantile", "clamp_min", "clamp_max", "bool", "and", "or", "unless", "le",
    "ignoring", "group_left", "group_right", "offset", "abs", "topk", "bottomk", "time",
    "e", "inf", "nan",
}  # fmt: skip


def promql_metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (label matchers, strings and ranges removed)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set(re.findall(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)", expr))
    return {name for name in names if name.lower() not in _PROMQL_WORDS}
