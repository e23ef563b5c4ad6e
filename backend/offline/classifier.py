"""Lexicon-and-rules classifier for Spanish and English.

Default labels read intent and urgency. Custom labels are scored by their own words and a small
synonym lexicon; with no evidence at all, the first label wins with uniform scores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from backend.offline.text import fold, tokenize

DEFAULT_LABELS: tuple[str, ...] = ("urgent", "question", "request", "complaint", "information")
# In multi-label mode, every label with at least this share of the best label's evidence.
MULTI_LABEL_RATIO = 0.5

# Phrases (accent-folded) and their weight per default label.
_LEXICON: dict[str, dict[str, float]] = {
    "urgent": {
        "urgente": 2.5,
        "urgencia": 2.0,
        "urgent": 2.5,
        "urgently": 2.5,
        "asap": 2.5,
        "lo antes posible": 2.5,
        "cuanto antes": 2.0,
        "inmediato": 2.0,
        "inmediatamente": 2.0,
        "immediately": 2.0,
        "right now": 1.5,
        "ahora mismo": 1.5,
        "emergencia": 2.5,
        "emergency": 2.5,
        "critico": 1.5,
        "critical": 1.5,
        "hoy mismo": 1.5,
        "deadline": 1.0,
        "plazo": 1.0,
        "cuanto antes mejor": 1.0,
        "sin demora": 1.5,
        "prioridad": 1.0,
    },
    "question": {
        "?": 2.0,
        "¿": 2.0,
        "como": 0.6,
        "cuando": 0.6,
        "donde": 0.6,
        "por que": 0.8,
        "que es": 0.8,
        "cual": 0.6,
        "cuanto": 0.6,
        "how": 0.8,
        "what": 0.6,
        "when": 0.6,
        "where": 0.6,
        "why": 0.8,
        "which": 0.5,
        "is it": 0.5,
        "do you": 0.6,
        "can i": 0.6,
        "alguien sabe": 1.0,
        "pregunta": 1.0,
        "question": 1.0,
        "duda": 1.0,
        "wonder": 0.8,
    },
    "request": {
        "por favor": 1.5,
        "please": 1.5,
        "necesito": 1.5,
        "necesitamos": 1.5,
        "need": 1.0,
        "could you": 1.5,
        "can you": 1.2,
        "would you": 1.2,
        "podrias": 1.5,
        "puedes": 1.2,
        "pueden": 1.2,
        "enviar": 0.8,
        "envia": 1.0,
        "send": 0.8,
        "solicito": 1.8,
        "solicitud": 1.5,
        "request": 1.5,
        "quisiera": 1.2,
        "me gustaria": 1.2,
        "i would like": 1.2,
        "ayuda": 0.8,
        "help": 0.8,
        "agradeceria": 1.2,
    },
    "complaint": {
        "queja": 2.5,
        "reclamo": 2.5,
        "reclamacion": 2.5,
        "complaint": 2.5,
        "terrible": 2.0,
        "horrible": 2.0,
        "pesimo": 2.0,
        "mal servicio": 2.5,
        "no funciona": 1.8,
        "not working": 1.8,
        "doesn't work": 1.8,
        "broken": 1.5,
        "roto": 1.5,
        "decepcion": 1.8,
        "disappointed": 1.8,
        "inaceptable": 2.0,
        "unacceptable": 2.0,
        "molesto": 1.5,
        "angry": 1.5,
        "enfadado": 1.5,
        "reembolso": 1.5,
        "refund": 1.5,
        "worst": 2.0,
        "peor": 1.5,
        "fatal": 1.5,
        "never again": 1.5,
        "nunca mas": 1.5,
        "averia": 1.2,
    },
    "information": {
        "informo": 1.5,
        "informamos": 1.5,
        "para su informacion": 2.0,
        "fyi": 2.0,
        "for your information": 2.0,
        "le comunico": 1.5,
        "aviso": 1.0,
        "notice": 1.0,
        "update": 0.8,
        "actualizacion": 0.8,
        "report": 0.6,
        "informe": 0.6,
        "anuncio": 1.0,
        "announcement": 1.0,
    },
}

# Words that tend to signal common custom labels (keys and values accent-folded).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "billing": (
        "factura",
        "facturacion",
        "pago",
        "cobro",
        "invoice",
        "payment",
        "charge",
        "precio",
        "importe",
        "tarjeta",
        "card",
    ),
    "factura": ("billing", "invoice", "pago", "cobro", "importe"),
    "technical": (
        "error",
        "fallo",
        "bug",
        "servidor",
        "server",
        "crash",
        "tecnico",
        "login",
        "contrasena",
        "password",
        "instalar",
        "install",
        "configurar",
    ),
    "tecnico": ("error", "fallo", "bug", "servidor", "server", "crash", "technical"),
    "sales": (
        "comprar",
        "buy",
        "precio",
        "price",
        "oferta",
        "offer",
        "presupuesto",
        "quote",
        "ventas",
        "descuento",
        "discount",
    ),
    "ventas": ("comprar", "precio", "oferta", "presupuesto", "sales", "descuento"),
    "sports": (
        "futbol",
        "football",
        "soccer",
        "partido",
        "match",
        "gol",
        "goal",
        "liga",
        "league",
        "equipo",
        "team",
        "deportes",
        "tenis",
        "baloncesto",
        "basketball",
    ),
    "deportes": ("futbol", "partido", "gol", "liga", "equipo", "sports", "tenis", "baloncesto"),
    "politics": (
        "gobierno",
        "government",
        "eleccion",
        "election",
        "partido",
        "party",
        "parlamento",
        "congreso",
        "ministro",
        "minister",
        "politica",
        "vote",
        "voto",
    ),
    "politica": ("gobierno", "eleccion", "parlamento", "congreso", "ministro", "politics", "voto"),
    "technology": (
        "software",
        "app",
        "aplicacion",
        "ordenador",
        "computer",
        "internet",
        "ia",
        "ai",
        "tecnologia",
        "digital",
        "movil",
        "phone",
        "datos",
        "data",
    ),
    "tecnologia": ("software", "app", "aplicacion", "ordenador", "internet", "ia", "digital"),
    "health": (
        "salud",
        "medico",
        "doctor",
        "hospital",
        "enfermedad",
        "disease",
        "vacuna",
        "vaccine",
        "sintoma",
        "symptom",
        "paciente",
        "patient",
    ),
    "salud": ("medico", "doctor", "hospital", "enfermedad", "vacuna", "sintoma", "health"),
    "economy": (
        "economia",
        "inflacion",
        "inflation",
        "mercado",
        "market",
        "bolsa",
        "stock",
        "empleo",
        "jobs",
        "pib",
        "gdp",
    ),
    "economia": ("inflacion", "mercado", "bolsa", "empleo", "pib", "economy"),
    "positive": ("bueno", "genial", "excelente", "good", "great", "excellent", "love", "encanta"),
    "negative": ("malo", "terrible", "horrible", "bad", "awful", "hate", "odio", "peor"),
}


@dataclass(frozen=True, slots=True)
class Classification:
    label: str
    labels: list[str]
    scores: dict[str, float]


def _phrase_hits(folded_text: str, phrase: str) -> int:
    if not phrase.isalnum() and len(phrase) == 1:
        return folded_text.count(phrase)
    return len(re.findall(rf"(?<!\w){re.escape(phrase)}(?!\w)", folded_text))


def _lexicon_score(folded_text: str, lexicon: dict[str, float]) -> float:
    return sum(weight * min(_phrase_hits(folded_text, p), 3) for p, weight in lexicon.items())


def _stem_match(word: str, stems: set[str]) -> bool:
    return any(
        word == s or (len(s) >= 4 and word.startswith(s[: max(4, len(s) - 2)])) for s in stems
    )


def _custom_score(label: str, words: list[str]) -> float:
    key = fold(label)
    stems = {fold(w) for w in tokenize(label)} | set(_SYNONYMS.get(key, ()))
    return float(sum(1 for word in words if _stem_match(word, stems)))


def _softmax(raw: dict[str, float]) -> dict[str, float]:
    peak = max(raw.values())
    exps = {k: math.exp(v - peak) for k, v in raw.items()}
    total = sum(exps.values())
    return {k: round(v / total, 4) for k, v in exps.items()}


def classify(
    text: str, labels: Sequence[str] | None = None, multi_label: bool = False
) -> Classification:
    candidates = list(labels) if labels else list(DEFAULT_LABELS)
    folded = fold(text)
    words = [fold(w) for w in tokenize(text)]
    raw: dict[str, float] = {}
    for label in candidates:
        lexicon = _LEXICON.get(fold(label))
        raw[label] = (
            _lexicon_score(folded, lexicon) if lexicon is not None else _custom_score(label, words)
        )
    if "information" in raw and max(raw.values()) == 0:
        # Nothing asks, demands or complains: it is information.
        raw["information"] = 1.0
    scores = _softmax(raw)
    label = max(candidates, key=lambda c: (raw[c], -candidates.index(c)))
    if multi_label:
        best = raw[label]
        chosen = [c for c in candidates if raw[c] > 0 and raw[c] >= MULTI_LABEL_RATIO * best]
        chosen = sorted(set(chosen) | {label}, key=lambda c: -raw[c])
    else:
        chosen = [label]
    return Classification(label=label, labels=chosen, scores=scores)
