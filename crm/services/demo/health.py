"""Demo customer health: the pass run once over the finished demo (its last step).

Run after the figures and service tickets are in, so the demo's sliding customers show
up on the at-risk list with their reasons. Quietly: it is the demo's baseline, so no
"entered at risk" email is written for it (the scheduler's later passes write those).
"""

from __future__ import annotations

from crm.services.health import assessment, job


def assess() -> assessment.PassReport:
    """Score every demo customer (the caller commits)."""
    return job.run_pass(notify=False)
