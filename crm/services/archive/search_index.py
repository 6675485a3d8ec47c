"""Narrowing the customer search by its bigram index (models/search_grams.py).

The search's meaning stays its LIKEs (crm/services/archive/search.py); this only picks the
customers that can match: those holding every bigram of the query (folded as the index
folds). A query the index cannot serve (one character, a LIKE wildcard) returns None, and
the LIKEs read every customer in scope as before.
"""

from __future__ import annotations

import string

from sqlalchemy import Select, intersect, select, union

from models import Customer, SearchGram

# As the index folds: ASCII only, the way SQLite's LIKE ignores case.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# What LIKE reads as a pattern rather than text (backslash: PostgreSQL's default escape).
_LIKE_SPECIAL = frozenset("%_\\")


def bigrams(text: str) -> list[str]:
    """The distinct two-character pieces of the text, folded as the index holds them."""
    folded = text.translate(_ASCII_LOWER)
    return sorted({folded[i : i + 2] for i in range(len(folded) - 1)})


def _holding_all(text: str) -> Select:
    """Ids of the customers whose indexed text holds every bigram of `text`."""
    selects = [
        select(SearchGram.customer_id).where(SearchGram.gram == gram) for gram in bigrams(text)
    ]
    if len(selects) == 1:
        return selects[0]
    # As a subquery: SQLite takes no parenthesised compound inside the union below.
    common = intersect(*selects).subquery()
    return select(common.c.customer_id)


def candidate_ids(texts: list[str], credit_code: str | None) -> Select | None:
    """SELECT of the ids of every customer that may contain one of the texts (or has this
    credit code); None when a text is too short, or a pattern, for the index to narrow."""
    if any(len(text) < 2 or _LIKE_SPECIAL & set(text) for text in texts):
        return None
    selects = [_holding_all(text) for text in dict.fromkeys(texts)]
    if credit_code:
        selects.append(select(Customer.id).where(Customer.credit_code == credit_code))
    return union(*selects) if len(selects) > 1 else selects[0]
