"""Japanese text normalisation and readings, applied alike to questions and records.

Parents type あかちゃんさろん, ﾊﾟﾊﾟ or もくよく; documents carry OCR slips (ぶれママ for ぷれママ,
O才 for 0才). Two representations bridge them:

- ``fold``: NFKC (width), lower case, hiragana folded to katakana, small kana to large,
  the half-voiced mark read as voiced (ぷ and ぶ meet: the usual OCR slip), long-vowel marks, wave dashes, punctuation
  and spaces removed, and 才/O才 read as 歳/0歳. Used for character n-grams and fuzzy scoring.
- ``reading``: the same fold applied to the katakana reading from MeCab (fugashi with
  unidic-lite, MIT/BSD), so 沐浴 and もくよく both become モクヨク.

Both are pure functions of the text; the MeCab tagger is created once per thread.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass

_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_DROP = re.compile(
    r"[\s\u30fc\u2015\u2010-\u2014\u301c\uff5e~\-ー・･、。,.!?！？「」『』()（）\[\]【】〔〕<>＜＞\"'“”‘’:;：；/／@＠#＃*＊&＆+=＝|｜^_`{}☐☑※◆◇○●◎■□▼▲△▽…]+"
)
_O_AGE = re.compile(r"(?<![a-z])o(?=(?:才|歳))")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


_KATAKANA = {c: c + 0x60 for c in range(0x3041, 0x3097)}


_HIRAGANA = {v: k for k, v in _KATAKANA.items()}


def to_katakana(text: str) -> str:
    return text.translate(_KATAKANA)


def to_hiragana(text: str) -> str:
    return text.translate(_HIRAGANA)


def fold(text: str) -> str:
    """A matching key: the same for width, kana, voicing, long-vowel and OCR variants."""
    s = nfkc(text).lower()
    s = _O_AGE.sub("0", s).replace("才", "歳")
    s = to_katakana(s)
    s = unicodedata.normalize("NFD", s).replace("\u309a", "\u3099")  # ぷ -> ぶ: the usual OCR slip
    s = _DROP.sub("", s)
    s = unicodedata.normalize("NFC", s).translate(_SMALL)
    return s


@dataclass(frozen=True)
class Token:
    surface: str
    lemma: str
    reading: str  # folded katakana reading (surface fold when MeCab has none)
    pos: str  # 名詞, 動詞, 助詞 ...


_local = threading.local()


def _tagger():
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        import fugashi  # deferred: the import loads the dictionary

        tagger = _local.tagger = fugashi.Tagger()
    return tagger


@functools.lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[Token, ...]:
    """Morphemes of the NFKC text with lemma and folded reading.

    Cached for questions and short titles, which recur; the cache is small on purpose, because
    record bodies are parsed once at index build and would only fill it.
    """
    return parse(text)


def parse(text: str) -> tuple[Token, ...]:
    """``tokens`` without the cache, for text seen once (record bodies)."""
    out = []
    for word in _tagger()(nfkc(text)):
        feature = word.feature
        kana = getattr(feature, "kana", None) or getattr(feature, "pron", None)
        lemma = getattr(feature, "lemma", None) or word.surface
        lemma = lemma.split("-")[0] if lemma else word.surface
        pos = getattr(feature, "pos1", "") or ""
        reading = fold(kana) if kana and kana != "*" else fold(word.surface)
        out.append(Token(word.surface, lemma, reading, pos))
    return tuple(out)


def lemmas(text: str) -> str:
    """The folded dictionary forms (遊び and あそぼう both give 遊ぶ)."""
    return "".join(fold(t.lemma) for t in tokens(text))


def reading(text: str, *, cache: bool = True) -> str:
    """The folded katakana reading of the whole text."""
    return "".join(t.reading for t in (tokens(text) if cache else parse(text)))


FUNCTION_POS = {"助詞", "助動詞"}


def ngrams(s: str, n: int) -> list[str]:
    if len(s) < n:
        return [s] if s else []
    return [s[i : i + n] for i in range(len(s) - n + 1)]


def strip_html(text: str) -> str:
    """Cells of the source documents come with HTML fragments: keep the words, mark boxes."""
    import html

    s = re.sub(r"<input[^>]*checked[^>]*/?>", "\n☑ ", text)
    s = re.sub(r"<input[^>]*/?>", "\n☐ ", s)
    s = re.sub(r"</?(?:p|li|ul|ol|br|tr|td|table|div)[^>]*>", "\n", s)
    s = re.sub(r"<[^>]+>", "", s)
    return html.unescape(s)


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and trim."""
    return re.sub(r"\s+", " ", text or "").strip()
