"""Greetings and thanks: what a parent writes in a chat that asks nothing.

A chat opens with こんにちは and closes with ありがとう. Such a message is not a question the base
failed to answer: it gets a short friendly reply and is not kept as a gap for staff. Only a whole
message counts, compared after ``fold`` (so こんにちは！, コンニチハ and こんにちわ〜 are one): a
greeting in front of a question (こんにちは、赤ちゃんサロンはいつ？) is a question.
"""

from __future__ import annotations

from knowledge.lang.text import fold

GREETING = "greeting"
THANKS = "thanks"
PHRASES = {
    GREETING: (
        "こんにちは",
        "こんにちわ",
        "こんばんは",
        "こんばんわ",
        "おはよう",
        "おはようございます",
        "はじめまして",
        "よろしく",
        "よろしくお願いします",
        "よろしくおねがいします",
        "もしもし",
        "hello",
        "hi",
    ),
    THANKS: (
        "ありがとう",
        "ありがとうございます",
        "ありがとうございました",
        "どうもありがとう",
        "どうも",
        "助かりました",
        "たすかりました",
        "了解です",
        "わかりました",
        "thanks",
        "thank you",
    ),
}
_KINDS = {fold(phrase): kind for kind, phrases in PHRASES.items() for phrase in phrases}


def small_talk(text: str) -> str | None:
    """``GREETING`` or ``THANKS`` when the whole message is one of those phrases, else None."""
    return _KINDS.get(fold(text).strip())
