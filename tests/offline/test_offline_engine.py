"""The offline engine on Spanish and English inputs."""

from __future__ import annotations

import pytest

from backend.offline.classifier import DEFAULT_LABELS, classify
from backend.offline.language import detect_language
from backend.offline.summarizer import summarize
from backend.offline.text import split_sentences

ARTICLE_EN = (
    "The city council approved a new cycling plan on Monday. "
    "The plan adds forty kilometres of protected bike lanes across the city. "
    "Council members said the bike lanes will connect every district to the centre. "
    "Some shop owners worry about losing parking spaces. "
    "The weather was sunny. "
    "Construction of the bike lanes starts in spring and ends next year."
)


def test_sentence_splitting_handles_abbreviations_decimals_and_spanish_marks() -> None:
    text = (
        "El Sr. García pagó 3.5 euros. ¿Vendrá mañana? ¡Claro que sí! "
        "Dr. Smith, e.g. the expert, agreed. Fin"
    )
    assert split_sentences(text) == [
        "El Sr. García pagó 3.5 euros.",
        "¿Vendrá mañana?",
        "¡Claro que sí!",
        "Dr. Smith, e.g. the expert, agreed.",
        "Fin",
    ]


def test_bullets_and_paragraphs_are_boundaries() -> None:
    text = "Tareas:\n- comprar pan\n- llamar a Ana\n\nOtro párrafo sin punto final"
    assert split_sentences(text) == [
        "Tareas:",
        "comprar pan",
        "llamar a Ana",
        "Otro párrafo sin punto final",
    ]


def test_summary_picks_central_sentences_in_original_order() -> None:
    summary = summarize(ARTICLE_EN, max_sentences=2)
    sentences = split_sentences(summary)
    assert len(sentences) == 2
    assert "The weather was sunny." not in summary
    assert all("bike lanes" in s or "plan" in s for s in sentences)
    positions = [ARTICLE_EN.index(s) for s in sentences]
    assert positions == sorted(positions)


def test_short_texts_come_back_whole_and_long_ones_stay_fast() -> None:
    assert summarize("Una sola frase.", 3) == "Una sola frase."
    long_text = " ".join(f"Frase número {i} sobre el tema {i % 7}." for i in range(3000))
    summary = summarize(long_text, 3)
    assert len(split_sentences(summary)) == 3


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("¡Urgente! Necesitamos el informe lo antes posible", "urgent"),
        ("This is urgent, please fix it immediately", "urgent"),
        ("¿Cómo puedo cambiar mi contraseña?", "question"),
        ("What time does the office open?", "question"),
        ("Por favor, envíame la factura de marzo", "request"),
        ("Could you send me the contract", "request"),
        ("Quiero poner una queja: pésimo servicio, inaceptable", "complaint"),
        ("The app is not working and the support was terrible", "complaint"),
        ("Le informamos de que la oficina cierra en agosto", "information"),
        ("The meeting notes are attached", "information"),
    ],
)
def test_default_labels(text: str, label: str) -> None:
    result = classify(text)
    assert result.label == label
    assert result.labels == [label]
    assert set(result.scores) == set(DEFAULT_LABELS)
    assert abs(sum(result.scores.values()) - 1) < 0.01


def test_custom_labels_and_multi_label() -> None:
    assert (
        classify(
            "El partido terminó con dos goles del equipo local", ["política", "deportes"]
        ).label
        == "deportes"
    )
    assert classify("Me cobraron dos veces la factura", ["technical", "billing"]).label == "billing"
    none_match = classify("zzz", ["alpha", "beta"])
    assert none_match.label == "alpha"
    multi = classify("¡Urgente! ¿Podrían revisar por qué no funciona?", multi_label=True)
    assert {"urgent", "question"} <= set(multi.labels)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hola, ¿cómo estás? Espero que todo vaya bien.", "es"),
        ("Hello, how are you? I hope everything is fine.", "en"),
        ("Bonjour, comment allez-vous aujourd'hui ?", "fr"),
        ("1234 !!", None),
        ("", None),
    ],
)
def test_language_detection(text: str, code: str | None) -> None:
    assert detect_language(text) == code
