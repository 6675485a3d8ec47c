"""Bigrams left for later: a bulk write lists its rows, the scheduler cuts them in batches.

An import of 100,000 customers cut 1.3 million bigrams as it wrote (models/search_grams.py):
more than the rows themselves cost, and the import's slowest part on both databases. Inside
`bulk_writes` the insert triggers list the new customers and contacts in the backlog
instead; `fold` (a scheduler job, every minute) cuts their bigrams a range at a time,
sorted, in transactions of its own. Until then the search reads each listed customer
whole, with its LIKEs (crm/services/archive/search_index.py): the results are the same,
only slower while a large backlog lasts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, and_, delete, exists, insert, select, text, tuple_

from crm.extensions import db
from models import Customer, SearchGramBacklog
from models.search_grams import FOLD

FOLD_JOB_ID = "search_grams_fold"
FOLD_MINUTES = 1
# Sources cut per transaction: SQLite's write lock is held for about 0.3 s each.
BATCH = 5_000

_MARK = and_(SearchGramBacklog.customer_id == 0, SearchGramBacklog.contact_id == 0)


@contextmanager
def bulk_writes() -> Iterator[None]:
    """The customers and contacts this transaction inserts inside go to the backlog.

    The mark is added and removed in the caller's transaction, so no other transaction sees
    it. A failure inside leaves it for the rollback the failure calls for (a PostgreSQL
    transaction that failed cannot even remove it); `fold` removes one committed by mistake.
    """
    db.session.execute(insert(SearchGramBacklog).values(customer_id=0, contact_id=0))
    yield
    db.session.execute(delete(SearchGramBacklog).where(_MARK))


def listed(customer: type[Customer] = Customer) -> ColumnElement[bool]:
    """The customer has text in the backlog (a primary-key probe; the table is mostly empty)."""
    return exists().where(SearchGramBacklog.customer_id == customer.id, ~_MARK)


def listed_ids():
    """The ids of the customers with text in the backlog."""
    return select(SearchGramBacklog.customer_id).where(SearchGramBacklog.customer_id != 0)


def fold(batch: int = BATCH) -> int:
    """Cut the bigrams of everything listed, `batch` sources per transaction (committed);
    returns how many were folded."""
    db.session.execute(delete(SearchGramBacklog).where(_MARK))  # committed by mistake
    db.session.commit()
    statement = text(FOLD[db.session.get_bind().dialect.name])
    folded = 0
    while True:
        keys = db.session.execute(
            select(SearchGramBacklog.customer_id, SearchGramBacklog.contact_id)
            .where(SearchGramBacklog.customer_id != 0)
            .order_by(SearchGramBacklog.customer_id, SearchGramBacklog.contact_id)
            .limit(batch)
        ).all()
        if not keys:
            return folded
        # The range may hold rows listed since the keys were read: cutting them twice is
        # harmless (a bigram already there is kept); only the rows read are removed.
        db.session.execute(statement, {"first": keys[0][0], "last": keys[-1][0]})
        db.session.execute(
            delete(SearchGramBacklog).where(
                tuple_(SearchGramBacklog.customer_id, SearchGramBacklog.contact_id).in_(keys)
            )
        )
        db.session.commit()
        folded += len(keys)
