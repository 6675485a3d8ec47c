"""Reference data every database starts with: industries, stages, visit cadences, document kinds.

The migrations insert the same rows on a real database; this serves databases made
with create_all (tests, benchmarks) and repairs a table an admin emptied by mistake.
"""

from __future__ import annotations

from sqlalchemy import func, select

from crm.extensions import db
from models import DocumentKind, Industry, Phase, Stage, Tier, TierCadence

DEFAULT_INDUSTRIES = (
    ("政府", "Government"),
    ("金融", "Finance"),
    ("教育", "Education"),
    ("医疗卫生", "Healthcare"),
    ("制造业", "Manufacturing"),
    ("交通物流", "Transport and logistics"),
    ("能源", "Energy"),
    ("零售", "Retail"),
    ("互联网", "Internet"),
    ("其他", "Other"),
)

# name_zh, name_en, phase, probability, is_contract (docs/domain.md, "The sales lifecycle")
DEFAULT_STAGES = (
    ("客户拜访，建立联系", "Initial contact", Phase.PRE_SALE, 10, False),
    ("需求挖掘", "Needs discovery", Phase.PRE_SALE, 20, False),
    ("整合解决方案", "Solution design", Phase.PRE_SALE, 40, False),
    ("方案呈现与探讨", "Proposal", Phase.PRE_SALE, 60, False),
    ("商务谈判", "Negotiation", Phase.PRE_SALE, 80, False),
    ("合同起草与签订", "Contract", Phase.PRE_SALE, 100, True),
    ("工单提交", "Order submitted", Phase.IN_SALE, 100, False),
    ("数据制作", "Provisioning", Phase.IN_SALE, 100, False),
    ("业务测试开通", "Testing and activation", Phase.IN_SALE, 100, False),
    ("业务试用", "Trial", Phase.IN_SALE, 100, False),
    ("正式商用", "In commercial use", Phase.IN_SALE, 100, False),
    ("客户回访", "Revisit", Phase.AFTER_SALE, 100, False),
    ("关系维护", "Relationship upkeep", Phase.AFTER_SALE, 100, False),
    ("投诉处理", "Complaint handling", Phase.AFTER_SALE, 100, False),
    ("业务变更", "Change request", Phase.AFTER_SALE, 100, False),
    ("维护", "Maintenance", Phase.AFTER_SALE, 100, False),
)

DEFAULT_CADENCE_DAYS = {Tier.A_PLUS: 14, Tier.A: 30, Tier.B: 60, Tier.C: 90}

# code, name_zh, name_en: the codes are what rules ask by (a contract at the contract stage).
DEFAULT_DOCUMENT_KINDS = (
    ("proposal", "方案", "Proposal"),
    ("quotation", "报价单", "Quotation"),
    ("contract", "合同", "Contract"),
    ("acceptance", "验收报告", "Acceptance report"),
    ("site_photo", "现场照片", "Site photo"),
    ("other", "其他", "Other"),
)


def _empty(model) -> bool:
    return not db.session.scalar(select(func.count()).select_from(model))


def seed_reference_data() -> None:
    """Insert the defaults into whichever reference table is empty."""
    if _empty(Industry):
        db.session.add_all(
            Industry(name_zh=zh, name_en=en, position=i)
            for i, (zh, en) in enumerate(DEFAULT_INDUSTRIES)
        )
    if _empty(Stage):
        db.session.add_all(
            Stage(
                name_zh=zh,
                name_en=en,
                phase=phase,
                position=i + 1,
                probability=probability,
                is_contract=contract,
            )
            for i, (zh, en, phase, probability, contract) in enumerate(DEFAULT_STAGES)
        )
    if _empty(TierCadence):
        db.session.add_all(TierCadence(tier=t, days=d) for t, d in DEFAULT_CADENCE_DAYS.items())
    if _empty(DocumentKind):
        db.session.add_all(
            DocumentKind(code=code, name_zh=zh, name_en=en, position=i)
            for i, (code, zh, en) in enumerate(DEFAULT_DOCUMENT_KINDS)
        )
    db.session.flush()
