"""What the bot says, in Spanish (the original design's language) and English.

Users whose Telegram app is in Spanish, or who have no language set, get Spanish; the others
English.
"""

from __future__ import annotations

from typing import Literal

from telegram import User

Lang = Literal["es", "en"]

MESSAGES: dict[str, dict[Lang, str]] = {
    "help": {
        "es": (
            "Hola, soy tu asistente de textos.\n\n"
            "Elige un modo con los botones y envíame el texto, o escribe el texto detrás del "
            "comando:\n{commands}\n\n"
            "/consultar: tu historial, o una pregunta (/consultar mis últimos 3 resúmenes)\n"
            "/modo: el modo actual\n"
            "/cancelar: salir del modo"
        ),
        "en": (
            "Hi, I am your text assistant.\n\n"
            "Pick a mode with the buttons and send me the text, or write the text after the "
            "command:\n{commands}\n\n"
            "/history: your history, or a question (/history my last 3 summaries)\n"
            "/mode: the current mode\n"
            "/cancel: leave the mode"
        ),
    },
    "text_arg": {"es": "texto", "en": "text"},
    "language_arg": {"es": "idioma", "en": "language"},
    "no_mode": {
        "es": "¿Qué hago con este texto? Elige un modo y vuelve a enviármelo:",
        "en": "What should I do with this text? Pick a mode and send it again:",
    },
    "choose_mode": {"es": "Elige un modo:", "en": "Pick a mode:"},
    "mode_current": {"es": "Modo actual: {mode}.", "en": "Current mode: {mode}."},
    "mode_none": {"es": "No hay ningún modo activo.", "en": "No mode is set."},
    "mode_cleared": {"es": "Modo cancelado.", "en": "Mode cleared."},
    "mode_set": {"es": "Modo: {mode}", "en": "Mode: {mode}"},
    "mode_prompt": {"es": "{prompt}", "en": "Send me the text to {title}."},
    "target_language": {"es": " (al idioma «{code}»)", "en": " (into '{code}')"},
    "history_label": {"es": "consultar historial", "en": "search history"},
    "cancel_label": {"es": "Cancelar", "en": "Cancel"},
    "history_prompt": {
        "es": "¿Qué quieres consultar de tu historial?",
        "en": "What would you like to find in your history?",
    },
    "history_empty": {
        "es": "No he encontrado nada en tu historial.",
        "en": "Nothing found in your history.",
    },
    "history_header": {"es": "Tu historial ({count}):", "en": "Your history ({count}):"},
    "history_hint": {
        "es": "Puedes preguntar en lenguaje natural: /consultar traducciones de ayer",
        "en": "You can ask in plain language: /history translations from yesterday",
    },
    "not_allowed": {
        "es": "Lo siento, este bot es privado y este chat no tiene acceso.",
        "en": "Sorry, this bot is private and this chat has no access.",
    },
    "rate_limited": {
        "es": "Vas muy rápido: espera {seconds} s y vuelve a intentarlo.",
        "en": "Too many messages: wait {seconds} s and try again.",
    },
    "text_only": {
        "es": "Solo puedo procesar mensajes de texto.",
        "en": "I can only process text messages.",
    },
    "unknown_command": {
        "es": "No conozco ese comando. /help muestra lo que sé hacer.",
        "en": "I don't know that command. /help shows what I can do.",
    },
    "stale_button": {"es": "Ese botón ya no es válido.", "en": "That button is no longer valid."},
    "needs_llm": {
        "es": "«{task}» necesita un modelo de IA y ahora mismo no hay ninguno disponible.",
        "en": "'{task}' needs an AI model and none is available right now.",
    },
    "offline_tasks": {
        "es": " Sin él funcionan: {tasks}.",
        "en": " These work without one: {tasks}.",
    },
    "llm_down": {
        "es": "El servicio de IA no responde ahora mismo. Inténtalo de nuevo en unos minutos.",
        "en": "The AI service is not answering right now. Please try again in a few minutes.",
    },
    "busy": {
        "es": "Hay demasiadas peticiones ahora mismo. Inténtalo de nuevo en un momento.",
        "en": "There are too many requests right now. Please try again in a moment.",
    },
    "budget": {
        "es": "Se ha agotado el presupuesto mensual del bot.",
        "en": "The bot's monthly budget is used up.",
    },
    "too_long": {
        "es": "El texto es demasiado largo ({length} caracteres; el máximo es {limit}).",
        "en": "The text is too long ({length} characters; the limit is {limit}).",
    },
    "empty_text": {
        "es": "Envíame el texto detrás del comando, o elige un modo y mándalo en otro mensaje.",
        "en": "Send the text after the command, or pick a mode and send it in another message.",
    },
    "failed": {
        "es": "No he podido completar la tarea: {reason}",
        "en": "I could not complete the task: {reason}",
    },
    "degraded": {
        "es": "(Respuesta del motor sin conexión: el servicio de IA no respondía.)",
        "en": "(Answered by the offline engine: the AI service was not answering.)",
    },
    "internal": {
        "es": "Algo ha fallado por nuestra parte. Inténtalo de nuevo más tarde.",
        "en": "Something went wrong on our side. Please try again later.",
    },
}


def lang_of(user: User | None) -> Lang:
    code = (user.language_code if user else None) or "es"
    return "es" if code.lower().startswith("es") else "en"


def say(lang: Lang, key: str, **values: object) -> str:
    template = MESSAGES[key][lang]
    return template.format(**values) if values else template
