"""The demo customer archive: fictional Chinese customers, contacts and competitor profiles.

Everything is derived from fixed data and per-customer seeded randomness, so a second
run recreates the same names and adds nothing that exists.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from crm.extensions import db
from crm.services import audit
from crm.services.archive.customers import PROFILE_FIELDS
from crm.services.archive.identity import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    normalise_name,
)
from crm.services.archive.reference import ensure_default_industries
from models import (
    Attitude,
    AuditAction,
    BuyingRole,
    Competitor,
    CompetitorProfile,
    Contact,
    Customer,
    CustomerStatus,
    Industry,
    InfoSource,
    Level,
    Strategy,
    ThreatLevel,
    Tier,
    User,
)

# (group, industry, region, [(subsidiary, region)], index of the owning manager)
GROUPS = (
    (
        "北辰能源集团有限公司",
        "能源",
        "江城市",
        [
            ("北辰能源集团临江分公司", "临江市"),
            ("北辰能源集团海川分公司", "海川市"),
            ("北辰能源集团新能源分公司", "江城市"),
        ],
        0,
    ),
    (
        "江城市智慧交通集团有限公司",
        "交通物流",
        "江城市",
        [
            ("江城市智慧交通集团公交分公司", "江城市"),
            ("江城市智慧交通集团地铁运营分公司", "江城市"),
        ],
        1,
    ),
    (
        "远航港务集团有限公司",
        "交通物流",
        "海川市",
        [("远航港务集团集装箱码头分公司", "海川市"), ("远航港务集团物流分公司", "临江市")],
        2,
    ),
    (
        "云岭农商银行股份有限公司",
        "金融",
        "云岭市",
        [
            ("云岭农商银行江城分行", "江城市"),
            ("云岭农商银行东湖支行", "东湖市"),
            ("云岭农商银行青禾支行", "青禾市"),
        ],
        4,
    ),
    (
        "百汇商业集团有限公司",
        "零售",
        "南山市",
        [("百汇商业集团南山分公司", "南山市"), ("百汇商业集团电子商务分公司", "江城市")],
        5,
    ),
)
# (name, industry, region); dealt to the managers in turn
STANDALONE = (
    ("南山第一人民医院", "医疗卫生", "南山市"),
    ("临江市政务服务中心", "政府", "临江市"),
    ("东湖精密制造有限公司", "制造业", "东湖市"),
    ("青禾教育科技有限公司", "教育", "青禾市"),
    ("海川物流股份有限公司", "交通物流", "海川市"),
    ("华岳证券股份有限公司", "金融", "江城市"),
    ("锦程数据科技有限公司", "互联网", "江城市"),
    ("星河零售连锁有限公司", "零售", "南山市"),
    ("瑞丰化工有限公司", "制造业", "临江市"),
    ("翠湖酒店管理有限公司", "其他", "云岭市"),
    ("银杉汽车零部件有限公司", "制造业", "东湖市"),
    ("天衡会计师事务所", "其他", "江城市"),
    ("江城市大数据管理局", "政府", "江城市"),
    ("江城理工大学", "教育", "江城市"),
    ("海川市中医院", "医疗卫生", "海川市"),
    ("云岭水电开发有限公司", "能源", "云岭市"),
    ("云帆网络科技有限公司", "互联网", "临江市"),
    ("北辰重工机械有限公司", "制造业", "北辰市"),
    ("青禾燃气有限公司", "能源", "青禾市"),
    ("临江市第一中学", "教育", "临江市"),
    ("海川城市商业银行股份有限公司", "金融", "海川市"),
    ("顺途快运有限公司", "交通物流", "南山市"),
    ("东湖区卫生健康局", "政府", "东湖市"),
    ("蓝鲸在线信息技术有限公司", "互联网", "江城市"),
    ("临江电子元器件有限公司", "制造业", "临江市"),
    ("北辰市妇幼保健院", "医疗卫生", "北辰市"),
    ("明德律师事务所", "其他", "南山市"),
    ("南山人寿保险股份有限公司", "金融", "南山市"),
    ("云岭职业技术学院", "教育", "云岭市"),
    ("海川市公安局交通管理支队", "政府", "海川市"),
    ("青禾县农产品供销有限公司", "零售", "青禾市"),
    ("江城市第三人民医院", "医疗卫生", "江城市"),
)
COMPETITORS = ("中国联通", "中国电信", "中国广电", "阿里云", "华为云")
PUBLIC_SECTOR = {"政府": "11", "教育": "12", "医疗卫生": "12"}  # credit-code prefixes
REGION_CODES = {
    "江城市": "430100",
    "临江市": "430200",
    "海川市": "430300",
    "云岭市": "430400",
    "东湖市": "430500",
    "南山市": "430600",
    "北辰市": "430700",
    "青禾市": "430800",
}
PRODUCTS = (
    "互联网专线",
    "数据专线",
    "云主机",
    "云电脑",
    "5G 专网",
    "物联网卡",
    "IDC 托管",
    "视频会议",
    "SD-WAN 组网",
    "集团短信",
    "移动办公",
    "安全云防护",
)
ROADS = ("建设大道", "人民路", "解放路", "科技路", "长江路", "滨江大道", "新华路", "光谷路")
NOTES = (
    "年度预算一般在每年三月确定。",
    "信息中心正在推进上云，明年有扩容需求。",
    "去年有过一次断网投诉，已处理，需关注满意度。",
    "对价格敏感，更看重本地化服务响应。",
    None,
    None,
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蒋蔡余杜叶程"
GIVEN = (
    "志强",
    "秀兰",
    "建华",
    "晓燕",
    "海涛",
    "丽娟",
    "文博",
    "雪梅",
    "国庆",
    "春燕",
    "振宇",
    "婷婷",
    "家豪",
    "慧敏",
    "子涵",
    "俊杰",
    "静怡",
    "明轩",
    "佳琪",
    "宇航",
    "红梅",
    "立新",
)
TOP_TITLES = {"政府": "主任", "医疗卫生": "院长", "教育": "校长", "金融": "行长"}
INFLUENCERS = (
    ("信息中心主任", "信息中心"),
    ("财务总监", "财务部"),
    ("采购部经理", "采购部"),
    ("技术部经理", "技术部"),
)
USERS = (
    ("网络管理员", "信息中心"),
    ("运维工程师", "信息中心"),
    ("行政专员", "综合办公室"),
    ("系统管理员", "技术部"),
)
GATEKEEPERS = (("办公室主任", "综合办公室"), ("采购专员", "采购部"), ("行政主管", "综合办公室"))
OFFERS = (
    "首年八五折，赠送三个月免费试用",
    "专线带宽免费升级一档",
    "打包云主机与专线，整体让利",
    "三年合约锁定价格，免安装费",
    "驻场工程师每周一次",
)
STRENGTHS = ("本地网络覆盖好", "价格低", "与客户高层关系深", "云产品线丰富", "响应速度快")
WEAKNESSES = ("售后响应慢", "定制化能力弱", "合同条款僵硬", "网络质量投诉多", "缺少本地团队")
# (revenue range, spend range, employees range) in yuan
SIZES = {
    Tier.A_PLUS: ((5_000_000_000, 20_000_000_000), (8_000_000, 30_000_000), (3000, 20000)),
    Tier.A: ((1_000_000_000, 5_000_000_000), (2_000_000, 8_000_000), (800, 5000)),
    Tier.B: ((200_000_000, 1_000_000_000), (500_000, 2_000_000), (200, 1200)),
    Tier.C: ((20_000_000, 200_000_000), (50_000, 500_000), (30, 300)),
}
STRATEGIES = {
    Tier.A_PLUS: (Strategy.CONSOLIDATE,),
    Tier.A: (Strategy.CONSOLIDATE, Strategy.INVEST),
    Tier.B: (Strategy.INVEST, Strategy.HARVEST),
    Tier.C: (Strategy.MAINTAIN, Strategy.HARVEST),
}
# The highest tier each manager level serves (docs/domain.md: A+ needs a senior manager).
TOP_TIER = {Level.SENIOR: Tier.A_PLUS, Level.INTERMEDIATE: Tier.A, Level.JUNIOR: Tier.B}
STANDALONE_TIERS = (Tier.A_PLUS, Tier.C, Tier.B, Tier.A, Tier.C, Tier.B, Tier.C)


def ensure_archive(managers: list[User]) -> int:
    """Add the demo customers that are missing, with contacts and competitor profiles."""
    ensure_default_industries()
    industries = {i.name_zh: i for i in db.session.scalars(select(Industry))}
    known = {c.name: c for c in db.session.scalars(select(Customer))}
    used_codes = {c.credit_code for c in known.values() if c.credit_code}
    competitors = _ensure_competitors()
    today = datetime.now(UTC).date()
    added: list[Customer] = []

    def add(name, industry, region, owner, tier, parent=None):
        if name in known:
            return known[name]
        rng = random.Random(f"demo:{name}")
        customer = _customer(rng, name, industries.get(industry), region, owner, tier, today)
        customer.parent = parent
        if customer.credit_code in used_codes:
            customer.credit_code = None
        used_codes.add(customer.credit_code)
        db.session.add(customer)
        known[name] = customer
        added.append(customer)
        return customer

    for group, industry, region, subsidiaries, index in GROUPS:
        owner = managers[index]
        parent = add(group, industry, region, owner, _cap(Tier.A_PLUS, owner))
        for number, (name, sub_region) in enumerate(subsidiaries):
            # The second subsidiary of the first group belongs to a teammate: a shared group.
            sub_owner = managers[index + 1] if (index, number) == (0, 1) else owner
            add(
                name,
                industry,
                sub_region,
                sub_owner,
                _cap(Tier.A if number == 0 else Tier.B, sub_owner),
                parent,
            )
    for number, (name, industry, region) in enumerate(STANDALONE):
        owner = managers[number % len(managers)]
        tier = STANDALONE_TIERS[(number // len(managers) + number) % len(STANDALONE_TIERS)]
        add(name, industry, region, owner, _cap(tier, owner))

    db.session.flush()
    for number, customer in enumerate(added):
        rng = random.Random(f"demo-people:{customer.name}")
        # Every eighth customer has no decision maker: the flag the archive raises.
        _add_contacts(rng, customer, with_decision_maker=number % 8 != 5)
        if rng.random() < 0.5:
            _add_profiles(rng, customer, competitors, today)
        audit.record(
            AuditAction.CREATE,
            customer,
            actor=None,
            customer_id=customer.id,
            changes=audit.snapshot(customer, PROFILE_FIELDS),
        )
    db.session.flush()
    return len(added)


def _cap(tier: Tier, owner: User) -> Tier:
    """The tier, lowered to what the owner's level may serve."""
    order = list(Tier)
    return order[max(order.index(tier), order.index(TOP_TIER[owner.level]))]


def _credit_code(rng: random.Random, industry: str, region: str) -> str:
    prefix = PUBLIC_SECTOR.get(industry, "91") + REGION_CODES.get(region, "430100")
    body = prefix + "".join(rng.choice(CREDIT_CODE_ALPHABET[:10] + "ABCDEFGHJK") for _ in range(9))
    return body + credit_code_check_char(body)


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low // 10_000, high // 10_000) * 10_000)


def _customer(rng, name, industry, region, owner, tier, today) -> Customer:
    revenue, spend, employees = SIZES[tier]
    public = industry is not None and industry.name_zh in PUBLIC_SECTOR
    status = rng.choices(list(CustomerStatus), weights=(2, 12, 2, 1))[0]
    return Customer(
        name=name,
        name_key=normalise_name(name),
        credit_code=_credit_code(rng, industry.name_zh if industry else "", region),
        industry=industry,
        region=region,
        address=f"{region}{rng.choice(ROADS)}{rng.randint(1, 899)}号",
        employees=rng.randint(*employees),
        annual_revenue=None if public else _amount(rng, *revenue),
        annual_spend=_amount(rng, *spend),
        tier=tier,
        strategy=rng.choice(STRATEGIES[tier]),
        status=status,
        products_in_use="、".join(rng.sample(PRODUCTS, rng.randint(2, 4))),
        contract_expiry=today + timedelta(days=rng.randint(20, 540)),
        owner=owner,
        notes=rng.choice(NOTES),
    )


def _person(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in taken:
            taken.add(name)
            return name


def _contact(rng, customer, taken, role, title, department, reports_to) -> Contact:
    attitude = rng.choices(list(Attitude), weights=(5, 4, 1))[0]
    contact = Contact(
        customer=customer,
        name=_person(rng, taken),
        title=title,
        department=department,
        mobile=f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
        office_phone=f"0{rng.randint(700, 799)}-{rng.randint(80_000_000, 89_999_999)}",
        role=role,
        attitude=attitude,
        strength=rng.randint(2, 5) if attitude is Attitude.SUPPORTER else rng.randint(1, 3),
        reports_to=reports_to,
    )
    db.session.add(contact)
    return contact


def _add_contacts(rng: random.Random, customer: Customer, *, with_decision_maker: bool) -> None:
    """3-8 contacts: decision maker on top, influencers below, users and go-betweens under them."""
    taken: set[str] = set()
    industry = customer.industry.name_zh if customer.industry else ""
    total = rng.randint(3, 8)
    top = None
    if with_decision_maker:
        title = TOP_TITLES.get(industry, rng.choice(("总经理", "董事长", "副总经理")))
        top = _contact(rng, customer, taken, BuyingRole.DECISION_MAKER, title, "领导班子", None)
    influencers = [
        _contact(rng, customer, taken, BuyingRole.INFLUENCER, title, department, top)
        for title, department in rng.sample(INFLUENCERS, 2 if total >= 6 else 1)
    ]
    title, department = rng.choice(GATEKEEPERS)
    _contact(
        rng, customer, taken, BuyingRole.CONTACT_PERSON, title, department, top or influencers[0]
    )
    for _ in range(max(total - len(taken), 1 if top is None else 0)):
        title, department = rng.choice(USERS)
        _contact(rng, customer, taken, BuyingRole.USER, title, department, rng.choice(influencers))


def _ensure_competitors() -> list[Competitor]:
    existing = {c.name: c for c in db.session.scalars(select(Competitor))}
    for name in COMPETITORS:
        if name not in existing:
            existing[name] = Competitor(name=name)
            db.session.add(existing[name])
    return [existing[name] for name in COMPETITORS]


def _add_profiles(rng, customer: Customer, competitors: list[Competitor], today: date) -> None:
    for competitor in rng.sample(competitors, rng.randint(1, 2)):
        db.session.add(
            CompetitorProfile(
                customer=customer,
                competitor=competitor,
                products="、".join(rng.sample(PRODUCTS, rng.randint(1, 3))),
                offer=rng.choice(OFFERS),
                discount_percent=Decimal(rng.randint(10, 70)) / 2,
                contract_expiry=today + timedelta(days=rng.randint(10, 365)),
                strengths=rng.choice(STRENGTHS),
                weaknesses=rng.choice(WEAKNESSES),
                threat=rng.choices(list(ThreatLevel), weights=(3, 4, 2))[0],
                source=rng.choice(list(InfoSource)),
                confirmed_on=today - timedelta(days=rng.randint(0, 150)),
            )
        )
