"""What the opportunity pages say about the stage document rules, with a link to upload.

The rule itself is the move service's (crm/services/pipeline/document_rules.py); here a
refused move's message and the hint after a move get their link to the opportunity's
documents, as a flashed message with a link (templates/base.html) or as JSON for the board.
"""

from __future__ import annotations

from flask import flash, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from crm.services.pipeline import document_rules
from models import Opportunity


def upload_url(opportunity_id: int) -> str:
    """The opportunity's upload page (blueprints/documents)."""
    return url_for("documents.upload_to_opportunity", opportunity_id=opportunity_id)


def missing_link(error: document_rules.DocumentMissing) -> dict[str, str]:
    """The refused move's message with a link to upload the missing document."""
    return {
        "text": str(error.message),
        "link": upload_url(error.opportunity_id),
        "link_text": _("Upload it now"),
    }


def suggestion(opportunity: Opportunity) -> dict[str, str] | None:
    """The hint after a move into a stage that suggests a document the opportunity lacks."""
    kind = document_rules.suggested_kind(opportunity)
    if kind is None:
        return None
    return {
        "text": _(
            "%(stage)s suggests a document of the kind %(kind)s: attach it to the opportunity.",
            stage=opportunity.stage.name_for(str(get_locale())),
            kind=kind.name_for(str(get_locale())),
        ),
        "link": upload_url(opportunity.id),
        "link_text": _("Attach it"),
    }


def flash_suggestion(opportunity: Opportunity) -> None:
    hint = suggestion(opportunity)
    if hint is not None:
        flash(hint, "info")
