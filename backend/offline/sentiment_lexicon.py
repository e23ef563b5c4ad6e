"""Polarity words for Spanish and English (accent-folded, lowercase), weights in [-3, 3].

`_variants` expands Spanish adjectives to their feminine and plural forms, so the lists stay short.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _variants(words: str, weight: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for word in words.split():
        out[word] = weight
        if word.endswith("o"):
            stem = word[:-1]
            out.update({stem + "a": weight, stem + "os": weight, stem + "as": weight})
        elif word.endswith(("e", "a")):
            out[word + "s"] = weight
        elif word.endswith(("l", "r", "z", "n")) and " " not in word:
            out[(word[:-1] + "ces") if word.endswith("z") else word + "es"] = weight
    return out


LEXICON: dict[str, float] = {
    # --- Spanish, positive
    **_variants("excelente estupendo maravilloso fantastico perfecto increible genial", 3.0),
    **_variants("encantado feliz contento satisfecho agradecido magnifico espectacular", 2.5),
    **_variants("bueno bonito util rapido amable eficaz eficiente facil comodo limpio", 2.0),
    **_variants("recomendable agradable correcto adecuado interesante positivo seguro", 1.5),
    **_variants("mejor", 2.0),
    "bien": 1.5,
    "gracias": 1.5,
    "encanta": 3.0,
    "encanto": 3.0,
    "gusta": 2.0,
    "gusto": 1.5,
    "me gusta": 2.0,
    "recomiendo": 2.5,
    "funciona": 1.0,
    "exito": 2.0,
    "alegria": 2.5,
    "alegra": 2.0,
    "felicidades": 2.5,
    "enhorabuena": 2.5,
    "solucionado": 2.0,
    "resuelto": 2.0,
    # --- Spanish, negative
    **_variants("terrible horrible pesimo fatal desastroso asqueroso inaceptable", -3.0),
    **_variants("malo lento caro roto sucio defectuoso inutil dificil incomodo", -2.0),
    **_variants("molesto enfadado furioso decepcionado harto frustrado triste", -2.5),
    **_variants("preocupado confuso mediocre negativo peligroso injusto", -1.5),
    **_variants("peor", -2.5),
    "mal": -2.0,
    "odio": -3.0,
    "odia": -3.0,
    "decepcion": -2.5,
    "queja": -2.0,
    "problema": -1.5,
    "problemas": -1.5,
    "error": -1.5,
    "errores": -1.5,
    "fallo": -1.5,
    "fallos": -1.5,
    "falla": -1.5,
    "averia": -2.0,
    "retraso": -1.5,
    "retrasos": -1.5,
    "estafa": -3.0,
    "desastre": -3.0,
    "desastroso": -3.0,
    "timo": -3.0,
    "basura": -3.0,
    "nunca mas": -2.5,
    "lamentable": -2.5,
    "vergüenza": -2.5,
    "verguenza": -2.5,
    # --- English, positive
    "excellent": 3.0,
    "amazing": 3.0,
    "wonderful": 3.0,
    "fantastic": 3.0,
    "perfect": 3.0,
    "awesome": 3.0,
    "outstanding": 3.0,
    "love": 3.0,
    "loved": 3.0,
    "great": 2.5,
    "happy": 2.5,
    "delighted": 3.0,
    "pleased": 2.0,
    "satisfied": 2.0,
    "good": 2.0,
    "nice": 2.0,
    "helpful": 2.0,
    "useful": 2.0,
    "fast": 1.5,
    "quick": 1.5,
    "easy": 1.5,
    "friendly": 2.0,
    "clean": 1.5,
    "recommend": 2.5,
    "recommended": 2.5,
    "like": 1.5,
    "liked": 1.5,
    "enjoy": 2.0,
    "enjoyed": 2.0,
    "thanks": 1.5,
    "thank": 1.5,
    "better": 2.0,
    "best": 3.0,
    "well": 1.0,
    "works": 1.0,
    "fixed": 1.5,
    "solved": 2.0,
    "success": 2.0,
    "glad": 2.0,
    "impressive": 2.5,
    # --- English, negative
    "terrible": -3.0,
    "horrible": -3.0,
    "awful": -3.0,
    "worst": -3.0,
    "hate": -3.0,
    "hated": -3.0,
    "disgusting": -3.0,
    "unacceptable": -3.0,
    "scam": -3.0,
    "garbage": -3.0,
    "bad": -2.0,
    "poor": -2.0,
    "slow": -1.5,
    "expensive": -1.5,
    "broken": -2.0,
    "dirty": -2.0,
    "useless": -2.5,
    "difficult": -1.5,
    "worse": -2.5,
    "angry": -2.5,
    "furious": -3.0,
    "disappointed": -2.5,
    "disappointing": -2.5,
    "frustrated": -2.5,
    "frustrating": -2.5,
    "annoying": -2.0,
    "annoyed": -2.0,
    "sad": -2.0,
    "upset": -2.0,
    "problem": -1.5,
    "problems": -1.5,
    "issue": -1.0,
    "issues": -1.0,
    "bug": -1.5,
    "bugs": -1.5,
    "fail": -2.0,
    "failed": -2.0,
    "fails": -2.0,
    "delay": -1.5,
    "delayed": -1.5,
    "complaint": -2.0,
    "never again": -2.5,
    "rude": -2.5,
    "waste": -2.5,
}

# Emoji and emoticons (matched on the raw text).
EMOJI: dict[str, float] = {
    "🙂": 1.5,
    "😀": 2.0,
    "😃": 2.0,
    "😊": 2.0,
    "😍": 3.0,
    "👍": 2.0,
    "❤️": 2.5,
    "❤": 2.5,
    "🎉": 2.0,
    ":)": 1.5,
    ":-)": 1.5,
    ":D": 2.0,
    "🙁": -1.5,
    "😞": -2.0,
    "😢": -2.0,
    "😡": -3.0,
    "😠": -2.5,
    "👎": -2.0,
    ":(": -1.5,
    ":-(": -1.5,
}

# Words that invert the polarity of what follows (within NEGATION_SCOPE tokens).
NEGATORS = _words(
    "no ni nunca jamas tampoco sin nada nadie ningun ninguna not never no nobody nothing "
    "neither nor without dont don't doesnt doesn't didnt didn't isnt isn't wasnt wasn't "
    "arent aren't cant can't cannot wont won't shouldnt shouldn't hardly"
)
INTENSIFIERS: dict[str, float] = {
    "muy": 1.5,
    "muchisimo": 1.8,
    "mucho": 1.3,
    "super": 1.5,
    "realmente": 1.4,
    "totalmente": 1.5,
    "sumamente": 1.7,
    "tan": 1.3,
    "bastante": 1.2,
    "very": 1.5,
    "really": 1.4,
    "extremely": 1.8,
    "so": 1.3,
    "totally": 1.5,
    "absolutely": 1.6,
    "incredibly": 1.7,
    "quite": 1.2,
    "poco": 0.5,
    "algo": 0.7,
    "slightly": 0.5,
    "somewhat": 0.7,
    "bit": 0.6,
}
# After these, the rest of the sentence counts more ("bonito, pero caro" leans negative).
CONTRASTS = _words("pero aunque but however although though")
