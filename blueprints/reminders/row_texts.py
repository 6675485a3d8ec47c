"""What the follow-up row actions print, worked out per page view (never per process).

The row forms in templates/reminders/_actions.html are macros that any page may import
(home, the follow-up list, the customer page), with or without context: they read their
words, the visit kinds and the CSRF token from here at call time, so nothing of one
request, user or language can stay behind in a cached template module.
"""

from __future__ import annotations

from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from crm.labels import label
from crm.request_cache import per_request
from models import ReminderSource, VisitKind

OUTCOME_LENGTH = 5000  # DoneForm's Length(max=...) on the outcome
SOURCE_LABELS = {
    ReminderSource.MANUAL: _l("Set by hand"),
    ReminderSource.VISIT: _l("From a visit"),
    ReminderSource.OPPORTUNITY: _l("From an opportunity"),
    ReminderSource.SERVICE: _l("Revisit after a service ticket"),
}


def follow_up_actions() -> dict:
    """The row actions' words, visit kinds, source labels and CSRF token for this request."""
    return per_request(f"follow-up-actions:{get_locale()}", _build)


def _build() -> dict:
    return {
        "token": generate_csrf(),
        "kinds": [(kind.value, label(kind)) for kind in VisitKind],
        "sources": {source: str(text) for source, text in SOURCE_LABELS.items()},
        "t": {
            "done": pgettext("action", "Done"),  # the button; the status is "Done" plain
            "snooze": _("Snooze"),
            "snooze_one_day": _("Snooze 1 day"),
            "three_days": _("3 days"),
            "one_week": _("1 week"),
            "more": _("Log the visit, pick a date, reschedule or dismiss"),
            "done_and_log_heading": _("Done, and log the visit"),
            "kind": _("Kind"),
            "choose": _("— choose —"),
            "outcome": _("Outcome"),
            "outcome_limit": _("Up to %(num)d characters.", num=OUTCOME_LENGTH),
            "next_follow_up_optional": _("Next follow-up (optional)"),
            "done_and_log": _("Done and log the visit"),
            "snooze_until": _("Snooze until"),
            "until": _("Until"),
            "reschedule": _("Reschedule"),
            "day": _("Day"),
            "time_optional": _("Time (optional)"),
            "save": _("Save"),
            "no_longer_needed": _("No longer needed?"),
            "dismiss": _("Dismiss"),
            "dismiss_question": _("Dismiss this follow-up? It is no longer needed."),
        },
    }
