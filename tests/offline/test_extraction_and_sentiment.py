"""The offline engine's extractor, date parser, sentiment scorer and token estimate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.offline.dates import find_dates
from backend.offline.extractor import extract, parse_number
from backend.offline.sentiment import score_sentiment
from backend.offline.tokens import estimate_tokens

# A Wednesday.
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("La reunión es el 3 de marzo de 2026.", "es", [("3 de marzo de 2026", "2026-03-03")]),
        ("Entrega el 15 de abril.", "es", [("15 de abril", "2026-04-15")]),
        ("Nos vemos el próximo viernes", "es", [("el próximo viernes", "2026-03-06")]),
        ("el viernes que viene", "es", [("el viernes que viene", "2026-03-06")]),
        ("Llegó el lunes pasado", "es", [("el lunes pasado", "2026-03-02")]),
        ("mañana por la mañana", "es", [("mañana", "2026-03-05")]),
        ("pasado mañana", "es", [("pasado mañana", "2026-03-06")]),
        (
            "en 3 días o dentro de dos semanas",
            "es",
            [("en 3 días", "2026-03-07"), ("dentro de dos semanas", "2026-03-18")],
        ),
        ("Pago el 05/04/2026", "es", [("05/04/2026", "2026-04-05")]),
        ("Due 04/05/2026", "en", [("04/05/2026", "2026-04-05")]),
        ("Due 25/04/2026", "en", [("25/04/2026", "2026-04-25")]),
        ("See you next Friday", "en", [("next Friday", "2026-03-06")]),
        # "next <weekday>" on that very weekday is a week later; "this" may be today.
        (
            "next Wednesday or this Wednesday",
            "en",
            [("next Wednesday", "2026-03-11"), ("this Wednesday", "2026-03-04")],
        ),
        (
            "On March 10, 2026 and 3rd of May",
            "en",
            [("March 10, 2026", "2026-03-10"), ("3rd of May", "2026-05-03")],
        ),
        (
            "at 2026-04-01T09:30 or yesterday",
            "en",
            [("2026-04-01T09:30", "2026-04-01T09:30"), ("yesterday", "2026-03-03")],
        ),
        ("two weeks ago", "en", [("two weeks ago", "2026-02-18")]),
        ("in a month", "en", [("in a month", "2026-04-04")]),
        ("marzo de 2026", "es", [("marzo de 2026", "2026-03")]),
        ("31/02/2026 no existe", "es", []),
    ],
)
def test_dates_are_normalized_to_iso(
    text: str, language: str, expected: list[tuple[str, str]]
) -> None:
    assert [(d.text, d.value) for d in find_dates(text, NOW, language)] == expected


@pytest.mark.parametrize(
    ("raw", "language", "value"),
    [
        ("1.250,50", "es", 1250.5),
        ("1,250.50", "en", 1250.5),
        ("1.500", "es", 1500.0),
        ("1.5", "en", 1.5),
        ("3,5", "es", 3.5),
        ("1,200", "en", 1200.0),
        ("42", None, 42.0),
    ],
)
def test_numbers_follow_the_language_conventions(
    raw: str, language: str | None, value: float
) -> None:
    assert parse_number(raw, language) == value


def test_spanish_extraction() -> None:
    text = (
        "Hola Ana, la reunión con María García de Telefónica será el 3 de marzo de 2026 en "
        "Madrid. El presupuesto es de 1.250,50 € y 3 millones de euros para el Banco Santander. "
        "Escribe a ana.lopez@example.com o visita https://example.com/plan. Llama al "
        "+34 612 345 678. Peso: 5 kg, descuento del 20 %. El Dr. Pérez trabaja en Acme S.A."
    )
    found = extract(text, NOW, "es")
    assert found.people == ["Ana", "María García", "Pérez"]
    assert found.organizations == ["Telefónica", "Banco Santander", "Acme S.A."]
    assert found.places == ["Madrid"]
    assert [(d.text, d.value) for d in found.dates] == [("3 de marzo de 2026", "2026-03-03")]
    assert [(a.value, a.currency, a.unit) for a in found.amounts] == [
        (1250.5, "EUR", None),
        (3_000_000.0, "EUR", None),
        (5.0, None, "kg"),
        (20.0, None, "%"),
    ]
    assert found.emails == ["ana.lopez@example.com"]
    assert found.urls == ["https://example.com/plan"]
    assert found.phones == ["+34612345678"]


def test_english_extraction() -> None:
    text = (
        "Dear John, Sarah Connor from Acme Corp will visit London next Friday. The budget is "
        "$3.5 million plus 1,200 USD. Call (555) 123-4567 or email sarah@acme.io, docs at "
        "www.acme.io/docs. The University of Oxford and IBM agreed."
    )
    found = extract(text, NOW, "en")
    assert found.people == ["John", "Sarah Connor"]
    assert found.organizations == ["Acme Corp", "University of Oxford", "IBM"]
    assert found.places == ["London"]
    assert [(d.text, d.value) for d in found.dates] == [("next Friday", "2026-03-06")]
    assert [(a.value, a.currency) for a in found.amounts] == [(3_500_000.0, "USD"), (1200.0, "USD")]
    assert found.phones == ["5551234567"]
    assert found.emails == ["sarah@acme.io"] and found.urls == ["www.acme.io/docs"]


def test_unknown_word_at_sentence_start_is_not_a_name() -> None:
    found = extract("Gracias por todo. Perfecto, lo vemos luego.", NOW, "es")
    assert found.people == found.organizations == found.places == []


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("El servicio fue excelente y el personal muy amable.", "positive"),
        ("Me encanta, lo recomiendo 👍", "positive"),
        ("No es bueno: el envío llegó roto y tarde, un desastre.", "negative"),
        ("No me gusta nada", "negative"),
        ("El paquete llegó el martes.", "neutral"),
        ("I love it! Great product.", "positive"),
        ("The hotel was not good, terrible service.", "negative"),
        ("Not bad at all", "positive"),
        ("The parcel arrived on Tuesday.", "neutral"),
    ],
)
def test_sentiment_lexicon(text: str, label: str) -> None:
    found = score_sentiment(text)
    assert found.label == label
    assert -1 <= found.score <= 1
    assert (found.score > 0) == (label == "positive")


def test_negation_and_contrast_change_the_score() -> None:
    assert score_sentiment("es bueno").score > 0 > score_sentiment("no es bueno").score
    # After "pero" the second clause weighs more.
    assert score_sentiment("Bonito, pero caro.").label == "negative"
    assert score_sentiment("Caro, pero bonito.").label == "positive"
    assert score_sentiment("muy bueno").score > score_sentiment("bueno").score


def test_token_estimate_is_conservative() -> None:
    english = "The quick brown fox jumps over the lazy dog. " * 20
    # Real BPE tokenizers give ~10 tokens per sentence here; the estimate must not be lower.
    assert estimate_tokens(english) >= 200
    assert estimate_tokens("日本語のテキスト") == 8
    assert estimate_tokens("") == 0
