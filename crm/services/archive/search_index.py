"""Narrowing the customer search by its bigram index (models/search_grams.py).

The search's meaning stays its LIKEs (crm/services/archive/search.py); this only picks the
customers that can match: those holding the query's bigrams (folded as the index folds).
A query the index cannot serve (one character, a LIKE pattern) or would not speed up (a
common word: 有限公司 is in three names in four) gets None, and the LIKEs read every
customer in scope as before; there they find a page's worth of a common word quickly.
Customers a bulk write added are candidates until the scheduler has cut their bigrams
(crm/services/archive/search_backlog.py).
"""

from __future__ import annotations

import string

from sqlalchemy import ColumnElement, Select, and_, exists, func, intersect, or_, select, union_all

from crm.extensions import db
from crm.services.archive import search_backlog
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
# Candidates few enough to draw by id whatever else the search narrows by (a lookup each).
FEW = 2_000


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


def _narrowing_grams(text: str) -> tuple[list[str], int] | None:
    """The bigrams worth intersecting for `text` and the rarest one's count (a bound on the
    candidates); None when the LIKEs are the faster way."""
    grams = bigrams(text)
    if len(grams) > MAX_GRAMS:  # spread over the text: its start, middle and end
        step = len(grams) / MAX_GRAMS
        grams = [grams[int(i * step)] for i in range(MAX_GRAMS)]
    counts = _bounded_counts(grams)
    rare = [gram for gram in grams if counts[gram] < COMMON]
    if rare:
        return rare, min(counts[gram] for gram in rare)
    # Every bigram common: a word is then likely common as a whole, but digits (part of a
    # mobile) combine into rare strings of common pieces, which the intersection finds.
    return (grams, min(counts.values())) if text.isdigit() else None


def _holding_all(grams: list[str]) -> Select:
    """Ids of the customers whose indexed text holds every one of the bigrams."""
    selects = [select(SearchGram.customer_id).where(SearchGram.gram == gram) for gram in grams]
    if len(selects) == 1:
        return selects[0]
    # As a subquery: SQLite takes no parenthesised compound inside the union below.
    common = intersect(*selects).subquery()
    return select(common.c.customer_id)


def _holds_all(grams: list[str]) -> ColumnElement[bool]:
    """The customer's indexed text holds every one of the bigrams: a primary-key probe each."""
    return and_(
        *(
            exists().where(SearchGram.gram == gram, SearchGram.customer_id == Customer.id)
            for gram in grams
        )
    )


def narrowing(
    texts: list[str], credit_code: str | None, *, narrowed: bool, few_only: bool = False
) -> ColumnElement[bool] | None:
    """A condition that keeps every customer that may contain one of the texts (or has this
    credit code); None when the LIKEs over every customer in scope are the better way.

    `narrowed`: the search has a selective condition of its own (a team's or a manager's
    scope, a tier, region, industry or owner filter). Then, unless the candidates are few,
    each customer it finds is probed for the bigrams instead: the customers' ids drawn
    from a bigram of 12,000 rows cost more than the 1,000 customers of a region and tier
    (an admin's filtered search at province: 16.6 -> 0.8 ms; a supervisor's 9.1 -> 1.1).

    `few_only`: None unless the candidates are few, for a search whose LIKEs are cheap and
    read in the list's order (an admin's contact search finds a page of 精密, held by 12,000
    customers, sooner by its LIKEs than by sorting those customers' 60,000 contacts).
    """
    if any(len(text) < 2 or _LIKE_SPECIAL & set(text) for text in texts):
        return None
    found = []
    for text in dict.fromkeys(texts):
        grams = _narrowing_grams(text)
        if grams is None:
            return None
        found.append(grams)
    many = max(count for _grams, count in found) > FEW
    if few_only and many:
        return None
    # Customers a bulk write added whose bigrams are not cut yet are candidates too.
    if narrowed and many:
        holds = [_holds_all(grams) for grams, _count in found]
        if credit_code:
            holds.append(Customer.credit_code == credit_code)
        return or_(*holds, search_backlog.listed())
    selects = [_holding_all(grams) for grams, _count in found]
    if credit_code:
        selects.append(select(Customer.id).where(Customer.credit_code == credit_code))
    return Customer.id.in_(union_all(*selects, search_backlog.listed_ids()))
