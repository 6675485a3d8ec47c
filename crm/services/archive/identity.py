"""Telling customers apart: the unified social credit code and normalised names."""

from __future__ import annotations

import re
import unicodedata

# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a credit code."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str | None) -> str | None:
    """A credit code as it is stored, from what was typed or pasted.

    NFKC folds full-width digits and letters (ｍＡ０) into ASCII; every space (also the
    full-width U+3000 and no-break ones) and invisible format character goes; letters
    become capitals, the only case the code's alphabet has. The form, the service,
    the import and the search all read codes through this one function.
    """
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw)
    if not text.isprintable() or " " in text:
        text = "".join(char for char in text if not _is_invisible(char))
    return text.upper()


def _is_invisible(char: str) -> bool:
    """A space, a line break or a format character (zero-width space, joiner, BOM ...)."""
    return char.isspace() or unicodedata.category(char) == "Cf"


def without_format_characters(text: str) -> str:
    """`text` without invisible format characters (Unicode category Cf: U+200B, U+FEFF ...).

    They come along when a name is pasted from a web page or a chat message and make
    two equal-looking names differ.
    """
    if text.isprintable():  # the usual case, checked in C
        return text
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None if it is.

    The reasons are message ids; callers translate them.
    """
    if len(code) != 18:
        return "length"
    if any(char not in CREDIT_CODE_ALPHABET for char in code):
        return "characters"
    if credit_code_check_char(code[:17]) != code[17]:
        return "check_digit"
    return None


# Longest first, so 股份有限公司 is removed before 有限公司.
COMPANY_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "子公司",
    "集团",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd",
    "limited",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
)
_NOISE = re.compile(r"[\s\-_·・.,，。()（）【】\[\]“”\"'`]+")
# The suffixes as they appear in a key (computed once: imports normalise every row).
_KEY_SUFFIXES = tuple(_NOISE.sub("", suffix) for suffix in COMPANY_SUFFIXES)


def normalise_name(name: str) -> str:
    """A key under which spelling variants of one company name coincide.

    NFKC folds full-width letters, digits and brackets into half-width ones;
    spaces, punctuation and legal-form suffixes are dropped, repeatedly, so that
    "东湖精密制造集团有限公司" and "东湖 精密制造" share one key. Invisible characters
    (zero-width spaces and joiners, a byte-order mark) are dropped too.
    """
    key = without_format_characters(unicodedata.normalize("NFKC", name)).lower()
    key = _NOISE.sub("", key)
    changed = True
    while changed and key:
        changed = False
        for stripped in _KEY_SUFFIXES:
            if key.endswith(stripped) and len(key) > len(stripped):
                key = key[: -len(stripped)]
                changed = True
                break
    return key


# A record id as a URL filter may carry it: digits that fit the BIGINT id columns.
# Longer ones identify nothing, and the databases refuse to bind them.
MAX_RECORD_ID = 2**63 - 1


def is_record_id(text: str) -> bool:
    # ASCII only: str.isdigit() also passes "²", which int() refuses.
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_RECORD_ID
