"""Documents (资料): proposals, quotations, contracts, photos kept on a customer.

A document hangs on a customer, and optionally on one of its opportunities or visits;
it is in scope exactly when its customer is (crm/permissions.py). Its bytes live in the
document store (crm/services/documents/storage.py), named by their SHA-256: a version
row holds that key, never a path, and the name the user gave the file is text only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, utcnow, where_set

if TYPE_CHECKING:
    from models.activity import Visit
    from models.customer import Customer
    from models.pipeline import Opportunity
    from models.user import User


class DocumentKind(db.Model):
    """What a document is (proposal, contract, site photo …): admin-editable reference data.

    `code` is what rules ask by (the stage rules ask "a contract?"); the names are shown.
    """

    __tablename__ = "document_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    def name_for(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Document(TimestampMixin, db.Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    # A deleted visit leaves its photos on the customer.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    kind_id: Mapped[int] = mapped_column(ForeignKey("document_kinds.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The number of the newest version (versions count from 1).
    current_version: Mapped[int] = mapped_column(default=0)
    # Soft delete: hidden at once, purged with its versions after the retention period.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column()

    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    visit: Mapped[Visit | None] = relationship()
    kind: Mapped[DocumentKind] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    deleted_by: Mapped[User | None] = relationship(foreign_keys=[deleted_by_id])
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document",
        order_by="DocumentVersion.number.desc()",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    # The newest version alone (its number is current_version): document lists join it
    # instead of loading every version.
    newest: Mapped[DocumentVersion | None] = relationship(
        primaryjoin="and_(DocumentVersion.document_id == Document.id, "
        "DocumentVersion.number == Document.current_version)",
        viewonly=True,
        uselist=False,
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_documents_customer_id_created_at", "customer_id", "created_at"),
        # Most documents are the customer's own: an opportunity's or a visit's are found
        # through indexes of only the rows that have one (an admin's opportunity page had
        # SQLite read all 200,000 documents of a province for its panel: 24 ms).
        Index("ix_documents_opportunity_id_set", "opportunity_id", **where_set("opportunity_id")),
        Index("ix_documents_visit_id_set", "visit_id", **where_set("visit_id")),
    )


class DocumentVersion(db.Model):
    """One upload of a document's bytes; earlier versions are kept, newest first."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int]
    # The store's key: the SHA-256 of the bytes, hex (the same bytes are stored once).
    blob_key: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # Sniffed from the bytes, never taken from the browser or the name.
    content_type: Mapped[str] = mapped_column(String(100))
    # The name the file had on the user's device: shown and offered on download, never a path.
    filename: Mapped[str] = mapped_column(String(255))
    # A small JPEG of an image, its own object in the store; None for other types.
    thumbnail_key: Mapped[str | None] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    uploaded_by: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("document_id", "number"),)
