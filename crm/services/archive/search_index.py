"""Narrowing the customer search by its bigram index (models/search_grams.py).

The search's meaning stays its LIKEs (crm/services/archive/search.py); this only picks the
customers that can match: those holding the query's bigrams (folded as the index folds).
A query the index cannot serve (one character, a LIKE pattern) or would not speed up (a
common word: 有限公司 is in three names in four) gets None, and the LIKEs read every
customer in scope as before; there they find a page's worth of a common word quickly.
"""

from __future__ import annotations

import string

from sqlalchemy import Select, func, intersect, select, union

from crm.extensions import db
from models import Customer, SearchGram

# As the index folds: ASCII only, the way SQLite's LIKE ignores case.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# What LIKE reads as a pattern rather than text (backslash: PostgreSQL's default escape).
_LIKE_SPECIAL = frozenset("%_\\")
# A bigram held by this many customers' rows or more narrows too little to pay for reading
# them (at province scale 12,000 candidates cost ~50 ms, the LIKEs over all ~160-400 ms).
COMMON = 20_000
# Bigrams looked up per query at most: any subset still finds a superset of the matches.
MAX_GRAMS = 8


def bigrams(text: str) -> list[str]:
    """The distinct two-character pieces of the text, folded as the index holds them."""
    folded = text.translate(_ASCII_LOWER)
    return list(dict.fromkeys(folded[i : i + 2] for i in range(len(folded) - 1)))


def _bounded_counts(grams: list[str]) -> dict[str, int]:
    """How many rows each bigram has, counted up to COMMON: one statement, index only."""
    counts = [
        select(func.count())
        .select_from(
            select(SearchGram.customer_id).where(SearchGram.gram == gram).limit(COMMON).subquery()
        )
        .scalar_subquery()
        for gram in grams
    ]
    return dict(zip(grams, db.session.execute(select(*counts)).one(), strict=True))


def _narrowing_grams(text: str) -> list[str] | None:
    """The bigrams worth intersecting for `text`; None when the LIKEs are the faster way."""
    grams = bigrams(text)
    if len(grams) > MAX_GRAMS:  # spread over the text: its start, middle and end
        step = len(grams) / MAX_GRAMS
        grams = [grams[int(i * step)] for i in range(MAX_GRAMS)]
    counts = _bounded_counts(grams)
    rare = [gram for gram in grams if counts[gram] < COMMON]
    if rare:
        return rare
    # Every bigram common: a word is then likely common as a whole, but digits (part of a
    # mobile) combine into rare strings of common pieces, which the intersection finds.
    return grams if text.isdigit() else None


def _holding_all(grams: list[str]) -> Select:
    """Ids of the customers whose indexed text holds every one of the bigrams."""
    selects = [select(SearchGram.customer_id).where(SearchGram.gram == gram) for gram in grams]
    if len(selects) == 1:
        return selects[0]
    # As a subquery: SQLite takes no parenthesised compound inside the union below.
    common = intersect(*selects).subquery()
    return select(common.c.customer_id)


def candidate_ids(texts: list[str], credit_code: str | None) -> Select | None:
    """SELECT of the ids of every customer that may contain one of the texts (or has this
    credit code); None when the LIKEs over every customer in scope are the better way."""
    if any(len(text) < 2 or _LIKE_SPECIAL & set(text) for text in texts):
        return None
    selects = []
    for text in dict.fromkeys(texts):
        grams = _narrowing_grams(text)
        if grams is None:
            return None
        selects.append(_holding_all(grams))
    if credit_code:
        selects.append(select(Customer.id).where(Customer.credit_code == credit_code))
    return union(*selects) if len(selects) > 1 else selects[0]
