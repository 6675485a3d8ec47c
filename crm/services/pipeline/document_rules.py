"""Stage document rules: a stage may require, or suggest, a document of a kind.

An administrator sets a rule per stage (off by default): REQUIRE refuses a move into the
stage while the opportunity has no document of the kind (moving to the contract stage asks
for the contract); SUGGEST lets the move through and the page then hints to attach one
(the proposal stage suggests the proposal). The move service (opportunities.move_to_stage)
asks here, so the board, the opportunity page and any later API obey the same rule.

A rule names its kind by code (document kinds are admin-editable reference data); a rule
whose kind was retired since cannot be met by an upload, so it asks nothing until an
administrator chooses another kind.
"""

from __future__ import annotations

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l

from crm.services.documents.library import has_document, kind_by_code
from crm.services.errors import DomainError
from models import DocumentKind, DocumentRule, Opportunity, Stage


def _in_reader_language(zh: str, en: str) -> LazyString:
    """A name in the language of whoever reads the message (worked out when shown)."""
    return LazyString(lambda: zh if str(get_locale() or "zh").startswith("zh") else en)


class DocumentMissing(DomainError):
    """The stage requires a document of `kind_code` and the opportunity has none.

    The view offers a link to upload one (`opportunity_id`).
    """

    def __init__(self, stage: Stage, kind: DocumentKind, opportunity: Opportunity) -> None:
        super().__init__(
            _l(
                "%(stage)s needs a document of the kind %(kind)s on the opportunity: "
                "upload it, then move the opportunity again.",
                stage=_in_reader_language(stage.name_zh, stage.name_en),
                kind=_in_reader_language(kind.name_zh, kind.name_en),
            ),
            field="stage_id",
        )
        self.kind_code = kind.code
        self.opportunity_id = opportunity.id


def rule_kind(stage: Stage) -> DocumentKind | None:
    """The (active) kind a stage's rule asks for; None when the rule is off."""
    if stage.document_rule is DocumentRule.OFF or not stage.document_kind:
        return None
    return kind_by_code(stage.document_kind)


def require_documents(opportunity: Opportunity, stage: Stage) -> None:
    """Refuse a move into `stage` while its REQUIRE rule's document is missing."""
    if stage.document_rule is not DocumentRule.REQUIRE:
        return
    kind = rule_kind(stage)
    if kind is not None and not has_document(opportunity, kind.code):
        raise DocumentMissing(stage, kind, opportunity)


def suggested_kind(opportunity: Opportunity) -> DocumentKind | None:
    """The kind its stage suggests attaching when the opportunity has none; else None.

    Read after a move, for the hint ("attach the proposal").
    """
    stage = opportunity.stage
    if stage.document_rule is not DocumentRule.SUGGEST:
        return None
    kind = rule_kind(stage)
    if kind is None or has_document(opportunity, kind.code):
        return None
    return kind


def clean_rule(
    rule: DocumentRule | str | None, kind_code: str | None
) -> tuple[DocumentRule, str | None]:
    """A stage's rule as an administrator chose it: a rule that is on names an active kind."""
    try:
        rule = DocumentRule(rule or DocumentRule.OFF)
    except ValueError:
        raise DomainError(_l("Choose a document rule from the list."), field="document_rule")
    kind_code = (kind_code or "").strip() or None
    if rule is DocumentRule.OFF:
        return rule, None
    if kind_code is None or kind_by_code(kind_code) is None:
        raise DomainError(
            _l("Choose the kind of document this stage asks for."), field="document_kind"
        )
    return rule, kind_code
