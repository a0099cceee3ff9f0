"""Publishing into capped catalogs, safely under concurrency.

Every change to a catalog first locks its row (``SELECT … FOR UPDATE``; on SQLite the write
transaction holds the database lock), then reads the items with a fresh statement, so two
staff publishing the 30th and the 31st item at once queue up and the second is refused.
Public functions run their own write transaction; the ``*_in`` variants run inside the
caller's (used by the hooks other plugins call).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    call_in_transaction, check_name, lazy_gettext as _l, NotFound, Product, settings as core_settings,
    SiyuError, ValidationError, write_transaction,
)
from siyu_curation import settings as plugin_settings
from siyu_curation.models import HARD_CEILING, MAIN, CurationCatalog, CurationItem
from siyu_curation.text import product_title

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9:_-]{0,63}$")


class CapReached(SiyuError):
    """Publishing would take a catalog past its cap."""

    code = "cap-reached"
    status = 409


@dataclass
class CapReport:
    cap: int
    count: int
    #: Listed products to take out, weakest first, when the catalog holds more than its cap.
    remove: list[Product] = field(default_factory=list)

    @property
    def over(self) -> int:
        return max(0, self.count - self.cap)


def effective_cap(session: Session, catalog: CurationCatalog) -> int:
    if catalog.key == MAIN:
        return int(plugin_settings.load(session)["main_cap"])
    return catalog.cap


def get_catalog(session: Session, key: str) -> CurationCatalog:
    catalog = session.scalar(select(CurationCatalog).where(CurationCatalog.key == key))
    if catalog is None:
        raise NotFound(_l("There is no catalog called “%(key)s”.", key=key))
    return catalog


def _lock(session: Session, key: str) -> CurationCatalog:
    catalog = session.scalar(select(CurationCatalog).where(CurationCatalog.key == key)
                             .with_for_update().execution_options(populate_existing=True))
    if catalog is None:
        raise NotFound(_l("There is no catalog called “%(key)s”.", key=key))
    return catalog


def _listed(session: Session, catalog: CurationCatalog):
    """(product_id, seat, position, featured) of every item, read after the lock."""
    return session.execute(
        select(CurationItem.product_id, CurationItem.seat, CurationItem.position, CurationItem.featured)
        .where(CurationItem.catalog_id == catalog.id).order_by(CurationItem.position, CurationItem.id)).all()


def _changed(kernel, session: Session, catalog: CurationCatalog, action: str, product_id: int | None) -> None:
    core_settings.bump_catalog_revision(session)
    call_in_transaction(kernel.pm, "curation_on_changed", kernel=kernel, session=session, catalog_key=catalog.key,
                        action=action, product_id=product_id)


def _active_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or not product.active:
        raise ValidationError(_l("Only active products can be listed."),
                              fields={"product_id": _l("Choose an active product.")})
    return product


def publish(kernel, session: Session, key: str, product_id: int, staff_id: int | None = None) -> CurationItem:
    """Add an active product at the end of catalog ``key``: a unit of its own, or part of the
    caller's open unit."""
    with write_transaction(session):
        return _publish(kernel, session, key, product_id, staff_id)


def _publish(kernel, session: Session, key: str, product_id: int, staff_id: int | None) -> CurationItem:
    catalog = _lock(session, key)
    product = _active_product(session, product_id)
    rows = _listed(session, catalog)
    if any(r.product_id == product_id for r in rows):
        raise ValidationError(_l("“%(title)s” is already in this catalog.", title=product_title(product)))
    cap = effective_cap(session, catalog)
    if len(rows) >= cap:
        from siyu_curation.rotation import weakest_listed

        weakest = weakest_listed(session, catalog, 1)
        suggestion = product_title(weakest[0]) if weakest else "—"
        raise CapReached(
            _l("This catalog holds at most %(cap)d items and is full. Take one out first — "
               "for example “%(title)s”, the weakest seller.", cap=cap, title=suggestion),
            cap=cap, suggest=[p.id for p in weakest])
    seat = min(set(range(1, HARD_CEILING + 1)) - {r.seat for r in rows})
    item = CurationItem(catalog_id=catalog.id, product_id=product_id, seat=seat, added_by=staff_id,
                        position=max((r.position for r in rows), default=-1) + 1)
    session.add(item)
    session.flush()
    _changed(kernel, session, catalog, "published", product_id)
    return item


def unpublish(kernel, session: Session, key: str, product_id: int) -> None:
    """Take a product out of catalog ``key``: a unit of its own, or part of the caller's."""
    with write_transaction(session):
        catalog = _lock(session, key)
        gone = session.execute(delete(CurationItem).where(
            CurationItem.catalog_id == catalog.id, CurationItem.product_id == product_id))
        if gone.rowcount != 1:
            raise NotFound(_l("That product is not in this catalog."))
        _changed(kernel, session, catalog, "unpublished", product_id)


def _items(session: Session, catalog: CurationCatalog) -> list[CurationItem]:
    return list(session.scalars(
        select(CurationItem).where(CurationItem.catalog_id == catalog.id)
        .order_by(CurationItem.position, CurationItem.id).execution_options(populate_existing=True)))


def move(kernel, session: Session, key: str, product_id: int, offset: int) -> None:
    """Move an item ``offset`` places (negative: towards the top); positions become 0..n-1."""
    with write_transaction(session):
        catalog = _lock(session, key)
        items = _items(session, catalog)
        index = next((i for i, it in enumerate(items) if it.product_id == product_id), None)
        if index is None:
            raise NotFound(_l("That product is not in this catalog."))
        item = items.pop(index)
        items.insert(max(0, min(len(items), index + offset)), item)
        for position, it in enumerate(items):
            it.position = position
        _changed(kernel, session, catalog, "reordered", product_id)


def set_featured(kernel, session: Session, key: str, product_id: int, featured: bool) -> None:
    with write_transaction(session):
        catalog = _lock(session, key)
        items = _items(session, catalog)
        item = next((it for it in items if it.product_id == product_id), None)
        if item is None:
            raise NotFound(_l("That product is not in this catalog."))
        limit = int(plugin_settings.load(session)["max_featured"])
        if featured and not item.featured and sum(it.featured for it in items) >= limit:
            raise ValidationError(_l("At most %(n)d hero items: remove the hero mark from another item first.",
                                     n=limit))
        item.featured = featured
        _changed(kernel, session, catalog, "featured" if featured else "unfeatured", product_id)


def swap(kernel, session: Session, key: str, remove_id: int, add_id: int, staff_id: int | None = None) -> CurationItem:
    """Replace a listed product by an unlisted one in one transaction: same seat, same place,
    so the count never changes and the cap still holds."""
    with write_transaction(session):
        catalog = _lock(session, key)
        product = _active_product(session, add_id)
        items = _items(session, catalog)
        old = next((it for it in items if it.product_id == remove_id), None)
        if old is None:
            raise NotFound(_l("That product is not in this catalog."))
        if any(it.product_id == add_id for it in items):
            raise ValidationError(_l("“%(title)s” is already in this catalog.", title=product_title(product)))
        seat, position = old.seat, old.position
        session.delete(old)
        session.flush()
        item = CurationItem(catalog_id=catalog.id, product_id=add_id, seat=seat, position=position,
                            added_by=staff_id)
        session.add(item)
        session.flush()
        _changed(kernel, session, catalog, "swapped", add_id)
        return item


def cap_report(session: Session, catalog: CurationCatalog) -> CapReport:
    from siyu_curation.rotation import weakest_listed

    cap = effective_cap(session, catalog)
    count = session.scalar(select(func.count()).where(CurationItem.catalog_id == catalog.id)) or 0
    remove = weakest_listed(session, catalog, count - cap) if count > cap else []
    return CapReport(cap, count, remove)


def set_cap(kernel, session: Session, key: str, cap: int) -> CapReport:
    """Change a catalog's cap. Lowering it below the count keeps every item: the report names
    the weakest ones to take out, and publishing stays refused until the count is under the cap."""
    if not isinstance(cap, int) or not 1 <= cap <= HARD_CEILING:
        raise ValidationError(_l("The cap must be between 1 and %(n)d.", n=HARD_CEILING),
                              fields={"cap": _l("Between 1 and %(n)d.", n=HARD_CEILING)})
    with write_transaction(session):
        catalog = _lock(session, key)
        catalog.cap = cap
        if catalog.key == MAIN:
            core_settings.put(session, plugin_settings.NAME, "main_cap", cap)
        _changed(kernel, session, catalog, "cap", None)
    return cap_report(session, catalog)


def fill(kernel, session: Session, key: str, staff_id: int | None = None) -> int:
    """Fill the free seats with the best unlisted active products (sales first, then the
    shop's own product order). Returns how many were added."""
    from siyu_curation.rotation import best_unlisted

    with write_transaction(session):
        catalog = _lock(session, key)
        free = effective_cap(session, catalog) - len(_listed(session, catalog))
        added = 0
        for product in best_unlisted(session, catalog, max(0, free)):
            _publish(kernel, session, key, product.id, staff_id)
            added += 1
        return added


def ensure_catalog(kernel, session: Session, key: str, title: str = "", owner_key: str | None = None,
                   cap: int | None = None) -> CurationCatalog:
    """The catalog ``key``, created if missing (race-safe: a concurrent creator wins, we reuse);
    a unit of its own, or part of the caller's open unit."""
    with write_transaction(session):
        return _ensure_catalog(kernel, session, key, title, owner_key, cap)


def _ensure_catalog(kernel, session: Session, key: str, title: str, owner_key: str | None,
                    cap: int | None) -> CurationCatalog:
    if not KEY_RE.match(key or ""):
        raise ValidationError(_l("Use lowercase letters, digits, “-”, “_” or “:” for the catalog key."),
                              fields={"key": _l("Lowercase letters, digits, - _ :")})
    check_name(title or "", "title")
    cap = plugin_settings.load(session)["main_cap"] if cap is None else cap
    if not isinstance(cap, int) or not 1 <= cap <= HARD_CEILING:
        raise ValidationError(_l("The cap must be between 1 and %(n)d.", n=HARD_CEILING),
                              fields={"cap": _l("Between 1 and %(n)d.", n=HARD_CEILING)})
    found = session.scalar(select(CurationCatalog).where(CurationCatalog.key == key))
    if found is not None:
        return found
    catalog = CurationCatalog(key=key, title=(title or key)[:100], owner_key=owner_key, cap=cap)
    try:
        with session.begin_nested():
            session.add(catalog)
    except IntegrityError:
        return get_catalog(session, key)
    _changed(kernel, session, catalog, "created", None)
    return catalog


def delete_catalog(kernel, session: Session, key: str) -> None:
    if key == MAIN:
        raise ValidationError(_l("The main catalog cannot be deleted."))
    with write_transaction(session):
        catalog = _lock(session, key)
        session.delete(catalog)
        _changed(kernel, session, catalog, "deleted", None)
