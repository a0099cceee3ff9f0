"""The curation plugin's hook implementations (entry point ``siyu: curation``)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from siyu.plugin import hookimpl, lazy_gettext as _l, Product
from siyu_curation import hookspecs, models, service
from siyu_curation.models import MAIN, CurationCatalog, CurationItem
from siyu_curation.settings import NAME, CurationSettings

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------ app setup


@hookimpl
def register_hookspecs(pm):
    pm.add_hookspecs(hookspecs)


@hookimpl
def register_migrations(register):
    register(NAME, str(HERE / "migrations" / "versions"))


@hookimpl
def register_translations(register):
    register(str(HERE / "translations"))


@hookimpl
def register_settings_schemas(register):
    register(NAME, CurationSettings)


@hookimpl
def register_blueprints(register):
    from siyu_curation import admin, api, storefront

    register(admin.bp)
    register(api.bp)
    register(storefront.bp)


@hookimpl
def register_admin_menu(register):
    register("curation_admin.index", _l("Curated catalog"), role="agent", order=20)


@hookimpl
def register_dashboard_widgets(register):
    from siyu_curation.admin import rotation_widget

    register("curation-rotation", _l("Rotation advice"), rotation_widget, role="owner", order=50)


# ------------------------------------------------------------------------- storefront


def listed_products(session, key: str) -> list[Product]:
    """Active products of a catalog in manual order (one query, images loaded with it)."""
    return list(session.scalars(
        select(Product).join(CurationItem, CurationItem.product_id == Product.id)
        .join(CurationCatalog, CurationCatalog.id == CurationItem.catalog_id)
        .where(CurationCatalog.key == key, Product.active.is_(True))
        .order_by(CurationItem.position, CurationItem.id).options(selectinload(Product.images))))


@hookimpl
def catalog_sorts():
    # A short, curated list in the shop's order: no price sort, no price comparison.
    return ["position"]


@hookimpl
def catalog_products(session, sort):
    return listed_products(session, MAIN)


@hookimpl
def on_demo_seeded(kernel, session):
    # A demo shop opens with its catalog curated: the best products fill the free seats.
    service.fill(kernel, session, MAIN)


@hookimpl
def register_stylesheets(register):
    register("curation.static", "curation.css")


@hookimpl
def storefront_slot(slot, context):
    if slot == "home_top":
        from siyu_curation.storefront import hero_strip

        return hero_strip()
    return None


# ------------------------------------------------ the hooks this plugin offers others


@hookimpl
def curation_ensure_catalog(kernel, session, key, title, owner_key, cap):
    catalog = service.ensure_catalog(kernel, session, key, title, owner_key, cap)
    report = service.cap_report(session, catalog)
    return {"key": catalog.key, "title": catalog.title, "owner_key": catalog.owner_key,
            "cap": report.cap, "count": report.count, "url_path": f"/c/{catalog.key}"}


@hookimpl
def curation_publish(kernel, session, key, product_id):
    service.publish(kernel, session, key, product_id)
    return True


@hookimpl
def curation_unpublish(kernel, session, key, product_id):
    service.unpublish(kernel, session, key, product_id)
    return True


@hookimpl
def curation_catalog_products(session, key):
    return listed_products(session, key)


__all__ = ["models"]
