"""Curated catalogs and their items (tables prefixed ``curation_``).

The cap is held twice, on purpose:

- every publish locks the catalog row (``SELECT … FOR UPDATE``) and counts its items before
  inserting, so concurrent publishes into one catalog queue up and the configurable cap holds;
- every item occupies a numbered *seat*, unique per catalog and checked to lie between 1 and
  ``HARD_CEILING``: whatever code writes, the database itself cannot hold more than 50 items
  in one catalog.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from siyu.plugin import Base, Product, UTCDateTime, utcnow

#: No catalog may ever hold more items than this, whatever its configured cap.
HARD_CEILING = 50
DEFAULT_CAP = 30
MAIN = "main"


class CurationCatalog(Base):
    """A capped list of products: the shop's ``main`` one, or a named one (channel, distributor)."""

    __tablename__ = "curation_catalogs"
    __table_args__ = (CheckConstraint(f"cap >= 1 AND cap <= {HARD_CEILING}", name="cap_within_ceiling"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier used in URLs and by other plugins: ``main``, ``spring-fair``, ``distributor:42``.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    #: Who curates it besides the shop, e.g. ``distributor:42``; ``None`` for the shop's own.
    owner_key: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The main catalog's cap comes from the plugin settings and is mirrored here.
    cap: Mapped[int] = mapped_column(Integer, default=DEFAULT_CAP)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list["CurationItem"]] = relationship(
        back_populates="catalog", order_by="CurationItem.position", cascade="all, delete-orphan",
        passive_deletes=True)


class CurationItem(Base):
    __tablename__ = "curation_items"
    __table_args__ = (
        UniqueConstraint("catalog_id", "product_id"),
        UniqueConstraint("catalog_id", "seat"),
        CheckConstraint(f"seat >= 1 AND seat <= {HARD_CEILING}", name="seat_within_ceiling"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("curation_catalogs.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    #: 1..HARD_CEILING, unique in the catalog: the database-level ceiling (see module doc).
    seat: Mapped[int] = mapped_column(Integer)
    #: Manual order on the storefront, ascending.
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Hero items are shown large above the list.
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))

    catalog: Mapped[CurationCatalog] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()
