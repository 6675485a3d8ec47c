"""The scheduler's stage snapshot per pair of owners, summed for a team's view.

The funnel's "reached" and the days in stage count a year of stage history; for a
supervisor's team that cost the home 8 ms on SQLite and 17 ms on PostgreSQL at province.
The scheduler's snapshot job (crm/services/reporting/snapshots.py) counts them once for
everyone, grouped by the opportunity's owner and its customer's owner: a team's view
sums the rows of its managers' opportunities on customers in the viewer's scope, which
is what the live count selects. Each opportunity is in exactly one row per stage, so
the sums are exact.
"""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class OwnerStageFigures(db.Model):
    """Of the year's cohort, one pair of owners' opportunities in one stage."""

    __tablename__ = "owner_stage_figures"

    # No foreign keys: the job replaces every row each time it runs, and a stage or an
    # account removed in between only leaves figures nobody's view selects.
    opportunity_owner_id: Mapped[int] = mapped_column(primary_key=True)
    customer_owner_id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(primary_key=True)
    reached: Mapped[int]  # pre-sale stages: how many got at least this far
    days_opportunities: Mapped[int]  # how many spent time in it (not while lost)
    days_total: Mapped[float]  # and their days there, in all
