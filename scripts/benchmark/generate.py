"""The reference dataset, written with set-based inserts (executemany / COPY), not the ORM."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from werkzeug.security import generate_password_hash

from crm.extensions import db
from crm.services.archive.identity import normalise_name
from crm.services.figures.months import add_months

PASSWORD = "bench-pass"  # every generated user shares it (one scrypt hash, computed once)
DUE_NOTE = "bench: due at the tick"


@dataclass(frozen=True)
class Size:
    teams: int
    managers: int
    customers: int
    contacts: int
    profiles: int
    opportunities: int
    history: int
    visits: int
    reminders: int
    pending: int
    due: int

    def scaled(self, factor: int) -> Size:
        values = {k: max(1, v // factor) for k, v in self.__dict__.items()}
        values["managers"] = max(values["managers"], 2 * values["teams"])
        return Size(**values)


PROVINCE = Size(
    teams=100,
    managers=1_000,
    customers=100_000,
    contacts=300_000,
    profiles=50_000,
    opportunities=150_000,
    history=600_000,
    visits=1_000_000,
    reminders=500_000,
    pending=20_000,
    due=1_000,
)
# "tenth" is the province's shape at a tenth (10 teams, 100 managers, 10,000 customers): a
# page's cost from it to the province shows whether it grows with the data (issue 18's
# growth check: at most 1.5x for the same viewer).
SIZES = {
    "province": PROVINCE,
    "tenth": PROVINCE.scaled(10),
    "small": PROVINCE.scaled(100),
    "tiny": PROVINCE.scaled(1000),
}

REGIONS = ("武汉", "宜昌", "襄阳", "荆州", "黄石", "十堰", "孝感", "荆门", "鄂州", "黄冈",
           "咸宁", "随州", "恩施", "仙桃", "天门", "潜江")  # fmt: skip
WORDS = ("精密", "科技", "物流", "能源", "医药", "银行", "电力", "教育", "建设", "交通",
         "水务", "钢铁", "食品", "化工", "纺织", "信息")  # fmt: skip
SUFFIXES = ("有限公司", "集团有限公司", "股份有限公司", "分公司")
COMPETITORS = ("中国联通", "中国电信", "中国广电", "华为云", "阿里云")
TIERS = ("A+",) * 5 + ("A",) * 15 + ("B",) * 30 + ("C",) * 50
STRATEGIES = ("consolidate", "invest", "harvest", "maintain", None)
STATUSES = ("active",) * 6 + ("prospect",) * 2 + ("at_risk", "lost")
ROLES = ("decision_maker", "influencer", "user", "contact_person")
VISIT_KINDS = ("on_site", "on_site", "phone", "meeting", "presentation", "other")
# A year of plans for every manager, whatever the size: the plan pages read one manager's
# or one team's, the report a team's over a period.
PLAN_WEEKS = 52
PLAN_MONTHS = 12
PLANNED_PER_WEEK = 5
SHANGHAI = timedelta(hours=8)  # every generated user's zone (no daylight saving)
RATINGS = ("excellent",) * 2 + ("good",) * 5 + ("fair",) * 2 + ("poor",)


class Writer:
    """Inserts rows of plain values: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, connection, dialect: str, chunk: int = 20_000) -> None:
        self.connection = connection  # the DBAPI connection
        self.dialect = dialect
        self.chunk = chunk
        self.counts: dict[str, int] = {}

    def ts(self, moment: datetime) -> str:
        value = moment.isoformat(sep=" ", timespec="microseconds")
        return value if self.dialect == "sqlite" else value + "+00:00"

    def insert(self, table: str, columns: tuple[str, ...], rows) -> None:
        cursor = self.connection.cursor()
        total = 0
        if self.dialect == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    total += 1
        else:
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= self.chunk:
                    cursor.executemany(sql, batch)
                    total += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                total += len(batch)
        cursor.close()
        self.counts[table] = self.counts.get(table, 0) + total


def generate(size: Size, *, seed: int = 8, log=print) -> dict:
    """Fill an empty schema (reference data seeded) with `size` rows; returns counts and time."""
    steps = [
        ("users", _users), ("customers", _customers), ("contacts", _contacts),
        ("competitors", _competitors), ("opportunities", _opportunities),
        ("visits", _visits), ("reminders", _reminders), ("plans", _plans),
        ("documents", _documents), ("tickets", _tickets), ("figures", _figures),
    ]  # fmt: skip
    return fill(size, steps, seed=seed, log=log)


Step = tuple[str, Callable[[dict], None]]


def fill(size: Size, steps: list[Step], *, seed: int, log=print) -> dict:
    """Run each (name, step) on one raw connection, committing after each, then ready the
    database for timing; every bench's dataset is built this way (the steps differ).

    A step gets the context dict: rng, size, w (the Writer), now, today, stages, industries.
    """
    started = time.perf_counter()
    engine = db.engine
    dialect = engine.dialect.name
    now = datetime.now(UTC).replace(tzinfo=None)
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        if dialect == "sqlite":
            dbapi.execute("PRAGMA synchronous=OFF")
            dbapi.execute("PRAGMA foreign_keys=OFF")  # ids are generated in order, parents first
        w = Writer(dbapi, dialect)
        stages = list(dbapi.execute(
            "SELECT id, probability, is_contract, position FROM stages ORDER BY position"
        ).fetchall())  # fmt: skip
        industries = [r[0] for r in dbapi.execute("SELECT id FROM industries").fetchall()]
        ctx = {
            "rng": random.Random(seed), "size": size, "w": w, "now": now, "today": now.date(),
            "stages": stages, "industries": industries,
        }  # fmt: skip
        for name, step in steps:
            t0 = time.perf_counter()
            step(ctx)
            dbapi.commit()
            log(f"  {name:<14} {time.perf_counter() - t0:6.1f} s")
        if dialect == "sqlite":
            dbapi.execute("PRAGMA foreign_keys=ON")
            dbapi.execute("ANALYZE")
        else:
            _ready_postgresql(dbapi, written=set(w.counts))
        dbapi.commit()
    finally:
        raw.close()
    return {"seconds": round(time.perf_counter() - started, 1), "rows": w.counts}


def _ready_postgresql(dbapi, *, written: set[str]) -> None:
    # VACUUM (outside a transaction) also sets the visibility map, without which
    # PostgreSQL's index-only scans fetch every row from the table anyway; a
    # freshly bulk-loaded table would otherwise wait for autovacuum.
    dbapi.commit()
    dbapi.autocommit = True
    dbapi.execute("VACUUM ANALYZE")
    # As the README's deployment section advises: for SSDs (with the default 4,
    # PostgreSQL prefers scanning every opportunity to a thousand index lookups), and no
    # parallel workers for statements of a few milliseconds.
    database = dbapi.info.dbname
    dbapi.execute(f'ALTER DATABASE "{database}" SET random_page_cost = 1.1')
    dbapi.execute(f'ALTER DATABASE "{database}" SET max_parallel_workers_per_gather = 0')
    dbapi.autocommit = False
    # Rows came with their ids: each written table's id sequence goes on after them, so
    # the pages and operations timed next can insert.
    serial = {
        row[0]
        for row in dbapi.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
            "AND column_default LIKE 'nextval%' AND table_schema = current_schema()"
        ).fetchall()
    }
    for table in sorted(written & serial):
        dbapi.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


def _users(c: dict) -> None:
    size, w, now = c["size"], c["w"], c["now"]
    stamp = w.ts(now)
    password = generate_password_hash(PASSWORD, method="scrypt")
    w.insert("teams", ("id", "name", "created_at", "updated_at"),
             ((t, f"政企{t:03d}组", stamp, stamp) for t in range(1, size.teams + 1)))  # fmt: skip
    columns = ("id", "username", "display_name", "email", "password_hash", "role", "level",
               "team_id", "locale", "timezone", "active", "session_token", "email_reminders",
               "email_daily_digest", "email_weekly_digest", "reminder_lead_minutes",
               "created_at", "updated_at")  # fmt: skip

    def rows():
        # Digests off: the reminder tick measures reminder emails alone.
        def user(id_, username, role, team, level="intermediate"):
            return (id_, username, username, f"{username}@bench.example", password, role, level,
                    team, "en", "Asia/Shanghai", True, f"bench{id_:027d}", True, False, False, 0,
                    stamp, stamp)  # fmt: skip

        yield user(1, "admin", "admin", None)
        for t in range(1, size.teams + 1):
            yield user(1 + t, f"supervisor{t}", "supervisor", t, "senior")
        for m in range(1, size.managers + 1):
            yield user(1 + size.teams + m, f"manager{m}", "manager", (m - 1) % size.teams + 1)

    w.insert("users", columns, rows())
    w.connection.execute("UPDATE teams SET supervisor_id = id + 1")
    c["manager_ids"] = [1 + size.teams + m for m in range(1, size.managers + 1)]


def _customers(c: dict) -> None:
    rng, size, w, now = c["rng"], c["size"], c["w"], c["now"]
    managers, industries = c["manager_ids"], c["industries"]
    stamp = w.ts(now)
    owners = [managers[i % len(managers)] for i in range(size.customers)]
    c["owners"] = owners  # customer id i+1 -> owner
    columns = ("id", "name", "name_key", "parent_id", "industry_id", "region", "address",
               "employees", "annual_revenue", "annual_spend", "tier", "strategy", "status",
               "contract_expiry", "owner_id", "created_by_id", "updated_by_id", "version",
               "created_at", "updated_at")  # fmt: skip

    def rows():
        head = None
        for i in range(size.customers):
            id_ = i + 1
            # Groups: every tenth customer heads a group of itself and three subsidiaries.
            if i % 10 == 0:
                head = id_
                parent = None
            else:
                parent = head if i % 10 <= 3 else None
            region = REGIONS[i % len(REGIONS)]
            name = f"{region}{WORDS[(i // 16) % 16]}{WORDS[i * 7 % 16]}{id_}{SUFFIXES[i % 4]}"
            expiry = today_plus(c["today"], rng.randint(-100, 700)) if i % 3 else None
            yield (id_, name, normalise_name(name), parent, industries[i % len(industries)],
                   region, f"{region}市{id_}号", rng.randint(20, 20000),
                   f"{rng.randint(1, 50000)}0000.00", f"{rng.randint(1, 500)}000.00",
                   rng.choice(TIERS), rng.choice(STRATEGIES), rng.choice(STATUSES), expiry,
                   owners[i], 1, 1, 1, stamp, stamp)  # fmt: skip

    w.insert("customers", columns, rows())


def today_plus(day: date, days: int) -> str:
    return (day + timedelta(days=days)).isoformat()


def _contacts(c: dict) -> None:
    rng, size, w = c["rng"], c["size"], c["w"]
    stamp = w.ts(c["now"])
    per = max(1, size.contacts // size.customers)
    columns = (
        "id",
        "customer_id",
        "name",
        "title",
        "department",
        "mobile",
        "role",
        "attitude",
        "strength",
        "reports_to_id",
        "active",
        "version",
        "created_at",
        "updated_at",
    )

    def rows():
        id_ = 0
        for customer in range(1, size.customers + 1):
            first = id_ + 1
            for k in range(per):
                id_ += 1
                # Seven customers in ten have a decision maker; the others' lists flag it.
                role = "decision_maker" if k == 0 and customer % 10 < 7 else ROLES[1 + k % 3]
                yield (id_, customer, f"联系人{id_}", "经理", "信息部", f"1{id_:010d}", role,
                       rng.choice(("supporter", "neutral", "opponent")), rng.randint(1, 5),
                       None if k == 0 else first, True, 1, stamp, stamp)  # fmt: skip

    w.insert("contacts", columns, rows())


def _competitors(c: dict) -> None:
    rng, size, w = c["rng"], c["size"], c["w"]
    stamp = w.ts(c["now"])
    w.insert("competitors", ("id", "name", "active", "created_at", "updated_at"),
             ((i + 1, n, True, stamp, stamp) for i, n in enumerate(COMPETITORS)))  # fmt: skip
    columns = (
        "id",
        "customer_id",
        "competitor_id",
        "products",
        "discount_percent",
        "contract_expiry",
        "threat",
        "version",
        "created_at",
        "updated_at",
    )

    def rows():
        # One profile for each of the first customers, two competitors for some.
        for id_ in range(1, size.profiles + 1):
            customer = (id_ - 1) % size.customers + 1
            competitor = ((id_ - 1) // size.customers) % len(COMPETITORS) + 1 + customer % 3
            competitor = (competitor - 1) % len(COMPETITORS) + 1
            yield (id_, customer, competitor, "专线、云", f"{rng.randint(0, 30)}.00",
                   today_plus(c["today"], rng.randint(-60, 700)),
                   rng.choice(("low", "medium", "high")), 1, stamp, stamp)  # fmt: skip

    w.insert("competitor_profiles", columns, rows())


def _opportunities(c: dict) -> None:
    rng, size, w, now = c["rng"], c["size"], c["w"], c["now"]
    stages, owners = c["stages"], c["owners"]
    contract_pos = next(pos for _, _, contract, pos in stages if contract)
    open_stages = [s for s in stages if s[3] < contract_pos]
    won_stages = [s for s in stages if s[3] >= contract_pos]
    per_history = max(1, size.history // size.opportunities)
    history = []
    columns = (
        "id",
        "customer_id",
        "title",
        "amount",
        "expected_close",
        "stage_id",
        "probability",
        "owner_id",
        "status",
        "next_step",
        "lost_reason",
        "closed_at",
        "stage_entered_at",
        "created_by_id",
        "version",
        "created_at",
        "updated_at",
    )

    def rows():
        for id_ in range(1, size.opportunities + 1):
            customer = rng.randint(1, size.customers)
            owner = owners[customer - 1]
            roll = rng.random()
            status = "open" if roll < 0.6 else "won" if roll < 0.85 else "lost"
            stage = rng.choice(won_stages if status == "won" else open_stages)
            created = now - timedelta(days=rng.randint(30, 720), minutes=rng.randint(0, 1440))
            entered = created + timedelta(days=rng.randint(0, 29))
            closed = w.ts(entered) if status != "open" else None
            amount = f"{rng.randint(1, 500) * 1000}.00"
            for k in range(per_history):
                history.append((opp_hist_id(id_, k, per_history), id_,
                                w.ts(created + timedelta(days=k)), owner,
                                open_stages[min(k, len(open_stages) - 1)][0]
                                if k < per_history - 1 else stage[0],
                                status if k == per_history - 1 else "open", amount,
                                stage[1], "{}"))  # fmt: skip
            yield (id_, customer, f"商机{id_} 专线扩容", amount,
                   today_plus(c["today"], rng.randint(-30, 365)), stage[0], stage[1], owner,
                   status, "方案交流", "price" if status == "lost" else None, closed,
                   w.ts(entered), owner, 1, w.ts(created), w.ts(entered))  # fmt: skip

    w.insert("opportunities", columns, rows())
    w.insert(
        "opportunity_history",
        (
            "id",
            "opportunity_id",
            "at",
            "actor_id",
            "stage_id",
            "status",
            "amount",
            "probability",
            "changes",
        ),
        history,
    )


def opp_hist_id(opportunity: int, k: int, per: int) -> int:
    return (opportunity - 1) * per + k + 1


def _visits(c: dict) -> None:
    rng, size, w, now = c["rng"], c["size"], c["w"], c["now"]
    owners = c["owners"]
    last: dict[int, datetime] = {}
    columns = (
        "id",
        "customer_id",
        "user_id",
        "occurred_at",
        "kind",
        "purpose",
        "outcome",
        "follow_up_on",
        "version",
        "created_at",
        "updated_at",
    )
    span = 365 * 24 * 60

    visited = c["visited"] = {}  # (owner, local Monday) -> a few customers visited that week

    def rows():
        for id_ in range(1, size.visits + 1):
            customer = rng.randint(1, size.customers)
            # A year back, evenly: 2,700 a day, about three per manager, as a province
            # logs them. (Weighted to the present, as they were, 29% of the year's visits
            # fell in the last 30 days and 5% in the last 24 hours: fifty a manager a
            # day, which no week's or month's figure of a real province reads.)
            at = now - timedelta(minutes=int(span * rng.random()) + 1)
            if customer not in last or at > last[customer]:
                last[customer] = at
            week = visited.setdefault((owners[customer - 1], local_monday(at)), [])
            if len(week) < PLANNED_PER_WEEK and customer not in week:
                week.append(customer)
            stamp = w.ts(at)
            yield (id_, customer, owners[customer - 1], stamp, rng.choice(VISIT_KINDS),
                   "了解需求", "客户有意向", None, 1, stamp, stamp)  # fmt: skip

    w.insert("visits", columns, rows())
    cursor = w.connection.cursor()
    updates = [(w.ts(at), customer) for customer, at in last.items()]
    if w.dialect == "sqlite":
        cursor.executemany("UPDATE customers SET last_visit_at = ? WHERE id = ?", updates)
    else:
        cursor.execute("CREATE TEMP TABLE bench_last (at timestamptz, id int)")
        with cursor.copy("COPY bench_last (at, id) FROM STDIN") as copy:
            for row in updates:
                copy.write_row(row)
        cursor.execute(
            "UPDATE customers SET last_visit_at = b.at FROM bench_last b WHERE customers.id = b.id"
        )
        cursor.execute("DROP TABLE bench_last")
    cursor.close()


def _reminders(c: dict) -> None:
    rng, size, w, now = c["rng"], c["size"], c["w"], c["now"]
    owners = c["owners"]
    columns = (
        "id",
        "owner_id",
        "customer_id",
        "source",
        "due_on",
        "due_at",
        "has_time",
        "note",
        "status",
        "completed_at",
        "version",
        "created_at",
        "updated_at",
    )
    pending_from = size.reminders - size.pending  # the last ids are pending
    due_from = size.reminders - size.due  # and the very last ones due at the tick

    def rows():
        for id_ in range(1, size.reminders + 1):
            customer = rng.randint(1, size.customers)
            note, completed = "回访", None
            if id_ > due_from:
                at, status, note = now - timedelta(minutes=10), "pending", DUE_NOTE
            elif id_ > pending_from:
                # Pending: overdue (beyond the tick's window) or due within the next month.
                at = now + timedelta(minutes=rng.randint(-20 * 1440, 30 * 1440))
                if now - timedelta(hours=3) < at <= now + timedelta(hours=1):
                    at += timedelta(hours=6)
                status = "pending"
            else:
                at = now - timedelta(minutes=rng.randint(1440, 365 * 1440))
                status = "done" if id_ % 5 else "dismissed"
                completed = w.ts(at + timedelta(hours=2))
            stamp = w.ts(at)
            yield (id_, owners[customer - 1], customer, "manual", at.date().isoformat(), stamp,
                   True, note, status, completed, 1, stamp, stamp)  # fmt: skip

    w.insert("reminders", columns, rows())


def _documents(c: dict) -> None:
    """Two documents a customer (a contract and a site photo), every third with a second
    version: rows only, the document pages list them without reading the files."""
    rng, size, w, now = c["rng"], c["size"], c["w"], c["now"]
    owners = c["owners"]
    dbapi = w.connection
    kinds = dict(dbapi.execute("SELECT code, id FROM document_kinds").fetchall())
    documents: list[tuple] = []
    versions: list[tuple] = []
    version_id = 0
    for customer in range(1, size.customers + 1):
        for k, (kind, name, mime) in enumerate(
            (("contract", "合同.pdf", "application/pdf"), ("site_photo", "机房.jpg", "image/jpeg"))
        ):
            id_ = 2 * (customer - 1) + k + 1
            count = 2 if id_ % 3 == 0 else 1
            at = now - timedelta(days=rng.randint(1, 700))
            stamp = w.ts(at)
            owner = owners[customer - 1]
            documents.append((id_, customer, kinds[kind], f"{customer}-{name}", owner, count, 1,
                              stamp, stamp))  # fmt: skip
            for number in range(1, count + 1):
                version_id += 1
                key = f"{version_id:064x}"
                thumb = key if kind == "site_photo" else None
                versions.append((version_id, id_, number, key, rng.randint(10_000, 5_000_000),
                                 mime, name, thumb, owner, stamp))  # fmt: skip
    w.insert("documents", ("id", "customer_id", "kind_id", "title", "created_by_id",
                           "current_version", "version", "created_at", "updated_at"),
             documents)  # fmt: skip
    w.insert("document_versions", ("id", "document_id", "number", "blob_key", "size",
                                   "content_type", "filename", "thumbnail_key",
                                   "uploaded_by_id", "uploaded_at"), versions)  # fmt: skip


# After-sale tickets: two a customer over the last year (200,000 at province scale, as
# issue 14 counts them); most closed, some still open, a few of those past their SLA.
TICKETS_PER_CUSTOMER = 2
TICKET_CATEGORIES = ("network_quality", "billing", "installation", "service_attitude",
                     "product_fault", "other")  # fmt: skip
TICKET_SLA_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}


def _tickets(c: dict) -> None:
    """Tickets with their opening event (and the closing one of the closed ones)."""
    rng, size, w, now = c["rng"], c["size"], c["w"], c["now"]
    owners = c["owners"]
    severities = tuple(TICKET_SLA_HOURS)
    tickets: list[tuple] = []
    events: list[tuple] = []
    for customer in range(1, size.customers + 1):
        owner = owners[customer - 1]
        for k in range(TICKETS_PER_CUSTOMER):
            id_ = TICKETS_PER_CUSTOMER * (customer - 1) + k + 1
            severity = rng.choice(severities)
            opened = now - timedelta(minutes=int(365 * 1440 * rng.random() ** 1.5))
            due = opened + timedelta(hours=TICKET_SLA_HOURS[severity])
            roll = rng.random()
            status = ("open" if roll < 0.06 else "in_progress" if roll < 0.1
                      else "resolved" if roll < 0.2 else "closed")  # fmt: skip
            resolved = opened + timedelta(hours=rng.randint(1, 200))
            closed = resolved + timedelta(hours=rng.randint(24, 200))
            done = status in ("resolved", "closed")
            satisfaction = rng.choice((2, 3, 4, 4, 5, 5)) if status == "closed" else None
            tickets.append((id_, customer, "complaint" if k == 0 else "request",
                            rng.choice(TICKET_CATEGORIES), severity, f"工单{id_}", owner,
                            owner if status != "open" else None, status, w.ts(opened),
                            w.ts(due), "已处理" if done else None,
                            w.ts(resolved) if done else None,
                            w.ts(closed) if status == "closed" else None, 0, satisfaction, owner,
                            1, w.ts(opened), w.ts(opened)))  # fmt: skip
            events.append((2 * id_ - 1, id_, w.ts(opened), owner, None, "open"))
            if status == "closed":
                events.append((2 * id_, id_, w.ts(closed), owner, "resolved", "closed"))
    w.insert("service_tickets", ("id", "customer_id", "kind", "category", "severity", "title",
                                 "owner_id", "handler_id", "status", "opened_at", "due_at",
                                 "resolution", "resolved_at", "closed_at", "reopened_count",
                                 "satisfaction", "created_by_id", "version", "created_at",
                                 "updated_at"), tickets)  # fmt: skip
    w.insert("ticket_events", ("id", "ticket_id", "at", "actor_id", "from_status", "to_status"),
             events)  # fmt: skip


def local_monday(at: datetime) -> date:
    """The Monday of the week holding `at` (naive UTC) in Shanghai."""
    day = (at + SHANGHAI).date()
    return day - timedelta(days=day.weekday())


@dataclass
class PlanRows:
    """The plan tables' rows as they are laid out, ids given in order."""

    plans: list = field(default_factory=list)
    planned: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    reviews: list = field(default_factory=list)
    keys: list = field(default_factory=list)

    def plan(self, c, manager, supervisor, kind, starts_on, due, *, waiting, current) -> int:
        """One plan: submitted on time (one in ten late), reviewed unless `waiting` for a
        review, a draft when `current` and not yet submitted."""
        rng, w, now = c["rng"], c["w"], c["now"]
        id_ = len(self.plans) + 1
        late = rng.random() < 0.1
        submitted = due + timedelta(hours=rng.randint(14, 60) if late else -rng.randint(1, 30))
        draft = current or submitted > now
        status = "draft" if draft else "submitted" if waiting else "reviewed"
        sent = None if draft else w.ts(submitted)
        stamp = w.ts(min(submitted, now))
        self.plans.append((id_, manager, kind, starts_on.isoformat(), status, "本周重点客户推进",
                           sent, sent, 1, stamp, stamp))  # fmt: skip
        if status == "reviewed":
            at = min(now, submitted + timedelta(days=7 + rng.randint(0, 2)))
            self.reviews.append((id_, supervisor, w.ts(at), "reviewed", rng.choice(RATINGS),
                                 "计划执行良好，继续保持。"))  # fmt: skip
        return id_


def _plans(c: dict) -> None:
    """A year of weekly plans (five planned visits, mostly the customers the manager then
    visited, two tasks) and monthly plans (goals, a key customer) for every manager,
    reviewed by the team's supervisor; half the last week's wait in the review queue and
    half this week's are drafts."""
    rng, size, w, now = c["rng"], c["size"], c["w"], c["now"]
    managers, visited = c["manager_ids"], c["visited"]
    per_manager = max(1, size.customers // len(managers))
    this_week = local_monday(now)
    this_month = (now + SHANGHAI).date().replace(day=1)
    rows = PlanRows()
    for index, manager in enumerate(managers):
        supervisor = index % size.teams + 2  # the team's supervisor (see _users)
        odd = index % 2 == 1
        # Manager index k owns customers k+1, k+1+M, k+1+2M ... (see _customers).
        owned = [index + 1 + len(managers) * k for k in range(per_manager)]
        for number in range(PLAN_WEEKS - 1, -1, -1):
            monday = this_week - timedelta(days=7 * number)
            # Friday 18:00 in Shanghai before the week: 10:00 UTC.
            due = datetime.combine(monday - timedelta(days=3), datetime.min.time())
            id_ = rows.plan(c, manager, supervisor, "week", monday, due + timedelta(hours=10),
                            waiting=number == 0 or number == 1 and odd,
                            current=number == 0 and odd)  # fmt: skip
            chosen = list(visited.get((manager, monday), ()))
            while len(chosen) < PLANNED_PER_WEEK:
                chosen.append(rng.choice(owned))
            for k, customer in enumerate(chosen):
                day = (monday + timedelta(days=k % 5)).isoformat()
                rows.planned.append((id_, customer, day, "了解需求", "auto"))
            for k in range(2):
                done = number > 0 and rng.random() < 0.85
                day = (monday + timedelta(days=2 * k)).isoformat()
                rows.tasks.append((id_, day, "整理拜访纪要", done))
        for number in range(PLAN_MONTHS - 1, -1, -1):
            months = this_month.year * 12 + this_month.month - 1 - number
            first = date(months // 12, months % 12 + 1, 1)
            due = datetime.combine(first, datetime.min.time()) + timedelta(hours=10)
            id_ = rows.plan(c, manager, supervisor, "month", first, due,
                            waiting=number <= 1, current=False)  # fmt: skip
            rows.keys.append((id_, rng.choice(owned), "advance", "推动进入商务谈判"))
    w.insert("work_plans", ("id", "owner_id", "kind", "starts_on", "status", "focus",
                            "first_submitted_at", "submitted_at", "version", "created_at",
                            "updated_at"), rows.plans)  # fmt: skip
    w.connection.execute(
        "UPDATE work_plans SET goal_visits = 20, goal_new_opportunities = 3, "
        "goal_won_amount = 500000 WHERE kind = 'month'"
    )
    w.insert("plan_visits", ("plan_id", "customer_id", "day", "purpose", "match"), rows.planned)
    w.insert("plan_tasks", ("plan_id", "day", "text", "done"), rows.tasks)
    w.insert("plan_reviews", ("plan_id", "reviewer_id", "at", "verdict", "rating", "comment"),
             rows.reviews)  # fmt: skip
    w.insert("plan_key_customers", ("plan_id", "customer_id", "aim_kind", "aim"), rows.keys)


# Business figures ---------------------------------------------------------------------

FIGURE_MONTHS = 13


def latest_full_month(today: date) -> date:
    return add_months(today.replace(day=1), -1)


def months_ending(last: date, count: int) -> list[date]:
    return [add_months(last, offset) for offset in range(1 - count, 1)]


def _figures(c: dict) -> None:
    """13 finished months per customer (1.3 million rows at province): what the customer
    page's figures panel, the health pass and the at-risk list read."""
    write_figures(c, months_ending(latest_full_month(c["today"]), FIGURE_MONTHS))


def write_figures(c: dict, months: list[date]) -> None:
    """`months` of figures per customer: most steady, one in ten sliding over the last
    five, one in seventeen losing lines over the last three, one in 23 owing more each month."""
    rng, w, now, size = c["rng"], c["w"], c["now"], c["size"]
    imported = w.ts(now - timedelta(days=20))
    columns = ("id", "customer_id", "month", "revenue", "arpu", "active_lines",
               "key_solution_revenue", "arrears", "arrears_recovered", "lines_lost",
               "source", "imported_at")  # fmt: skip

    def rows():
        id_ = 0
        for customer in range(1, size.customers + 1):
            base_revenue = rng.randint(5, 500) * 1000
            lines = rng.randint(10, 3000)
            sliding = customer % 10 == 0
            losing = customer % 17 == 0
            owing = customer % 23 == 0
            for index, month in enumerate(months):
                id_ += 1
                decline = 0.93 ** max(0, index - len(months) + 5) if sliding else 1.0
                revenue = base_revenue * decline * rng.uniform(0.97, 1.03)
                lost = rng.randint(0, lines // 20) if losing and index >= len(months) - 3 else 0
                lines -= lost
                arrears = (index + 1) * 2000 if owing else rng.choice((0, 0, 0, 500))
                yield (id_, customer, month.isoformat(), f"{revenue:.2f}",
                       f"{revenue / max(lines, 1):.2f}", lines, f"{revenue * 0.2:.2f}",
                       f"{arrears}.00", "0.00", lost, "bench.csv", imported)  # fmt: skip

    w.insert("monthly_figures", columns, rows())
