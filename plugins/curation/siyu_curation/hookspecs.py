"""Hooks the curation plugin offers to other plugins (added with ``register_hookspecs``).

Another plugin never imports ``siyu_curation``: it calls these hooks with
``call_service(kernel, "curation_publish", ...)``, which answers ``NOT_AVAILABLE`` when
curation is not enabled, and implements the ones curation calls with
``@hookimpl(optionalhook=True)``, so it still starts when curation is not installed.

A distribution plugin, for example, keeps each distributor's own picks in a catalog keyed
``distributor:<id>``: it creates it with ``curation_ensure_catalog(..., owner_key=...)``,
publishes with ``curation_publish`` (capped like every catalog) and names the owner in the
back office through ``curation_owner_label``. Catalogs are served at ``/c/<key>``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from siyu.plugin import hookspec

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from siyu.plugin import Product


# ------------------------------------------------- implemented by curation, called by others


@hookspec(firstresult=True)
def curation_ensure_catalog(kernel: Any, session: "Session", key: str, title: str, owner_key: str | None,
                            cap: int | None) -> dict[str, Any] | None:
    """Create the named catalog ``key`` if missing and describe it.

    ``kernel`` is the caller's ``Kernel`` (services take it to run hooks of their own).
    ``key``: lowercase letters, digits, ``-``, ``_``, ``:`` (e.g. ``distributor:42``);
    ``cap``: 1..50, ``None`` for the main catalog's cap. Returns
    ``{"key", "title", "owner_key", "cap", "count", "url_path"}``. In the caller's
    transaction; raises ``ValidationError`` for a bad key or cap.
    """


@hookspec(firstresult=True)
def curation_publish(kernel: Any, session: "Session", key: str, product_id: int) -> bool | None:
    """Add an active product to catalog ``key`` (at the end). Returns ``True``.

    In the caller's transaction, under the catalog's lock: raises ``CapReached`` (a
    ``SiyuError``, status 409, message naming the cap and a product to take out) when the
    catalog is full, ``ValidationError`` when the product is inactive or already listed,
    ``NotFound`` when the catalog does not exist.
    """


@hookspec(firstresult=True)
def curation_unpublish(kernel: Any, session: "Session", key: str, product_id: int) -> bool | None:
    """Take a product out of catalog ``key``. Returns ``True``; raises ``NotFound`` when it
    was not listed. In the caller's transaction."""


@hookspec(firstresult=True)
def curation_catalog_products(session: "Session", key: str) -> Sequence["Product"] | None:
    """The active products of catalog ``key`` in their manual order (empty when the catalog
    does not exist). Read only, not in a transaction."""


# ------------------------------------------------- called by curation, implemented by others


@hookspec
def curation_on_changed(kernel: Any, session: "Session", catalog_key: str, action: str,
                        product_id: int | None) -> None:
    """A catalog changed: ``action`` is ``published``, ``unpublished``, ``swapped``,
    ``reordered``, ``featured``, ``unfeatured``, ``cap``, ``created`` or ``deleted``.

    In the change's transaction: raising aborts it (the catalog stays as it was).
    """


@hookspec(firstresult=True)
def curation_owner_label(owner_key: str) -> str | None:
    """Name the owner of a catalog in the back office, e.g. ``distributor:42`` → "Li Ming
    (distributor)". First answer wins; ``None`` shows the key. Not in a transaction."""
