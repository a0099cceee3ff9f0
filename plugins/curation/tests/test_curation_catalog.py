"""Capped catalogs: publish, cap, order, heroes, and what the storefront shows."""
import pytest
from sqlalchemy import func, insert, select

from siyu.plugin import NotFound, settings as core_settings, ValidationError, write_transaction
from siyu_curation import service
from siyu_curation.models import CurationCatalog, CurationItem
from siyu_curation.service import CapReached


def listed_ids(db, key="main"):
    db.rollback()
    catalog = db.scalar(select(CurationCatalog).where(CurationCatalog.key == key))
    return list(db.scalars(select(CurationItem.product_id).where(CurationItem.catalog_id == catalog.id)
                           .order_by(CurationItem.position, CurationItem.id)))


def test_main_catalog_caps_at_thirty_and_names_the_cap(kernel, db, products):
    for p in products[:30]:
        service.publish(kernel, db, "main", p.id)
    with pytest.raises(CapReached) as info:
        service.publish(kernel, db, "main", products[30].id)
    message = str(info.value.message)
    assert "30" in message and "商品30" in message  # names the cap and an item to take out (last listed, no sales)
    assert info.value.status == 409 and info.value.data["suggest"]
    assert len(listed_ids(db)) == 30


def test_publish_refuses_duplicates_inactive_and_unknown(kernel, db, products, make_product):
    service.publish(kernel, db, "main", products[0].id)
    with pytest.raises(ValidationError):
        service.publish(kernel, db, "main", products[0].id)
    with pytest.raises(ValidationError):
        service.publish(kernel, db, "main", make_product(db, active=False).id)
    with pytest.raises(ValidationError):
        service.publish(kernel, db, "main", 999999)
    with pytest.raises(NotFound):
        service.publish(kernel, db, "nope", products[1].id)
    with pytest.raises(NotFound):
        service.unpublish(kernel, db, "main", products[1].id)
    assert listed_ids(db) == [products[0].id]


def test_database_holds_no_more_than_fifty_whatever_the_code(kernel, db, products):
    """Seats are unique per catalog and between 1 and 50: a raw insert past them fails."""
    catalog = service.get_catalog(db, "main")
    with pytest.raises(Exception):
        with write_transaction(db):
            db.execute(insert(CurationItem).values(catalog_id=catalog.id, product_id=products[0].id, seat=51,
                                                   position=0, featured=False, added_at=func.now()))
    service.publish(kernel, db, "main", products[0].id)
    with pytest.raises(Exception):
        with write_transaction(db):
            db.execute(insert(CurationItem).values(catalog_id=catalog.id, product_id=products[1].id, seat=1,
                                                   position=0, featured=False, added_at=func.now()))


def test_cap_is_configurable_up_to_fifty(kernel, db, products):
    with pytest.raises(ValidationError):
        service.set_cap(kernel, db, "main", 51)
    service.set_cap(kernel, db, "main", 35)
    for p in products[:35]:
        service.publish(kernel, db, "main", p.id)
    with pytest.raises(CapReached):
        service.publish(kernel, db, "main", products[35].id)


def test_lowering_the_cap_keeps_items_and_names_the_weakest(kernel, db, products, sell):
    for p in products[:10]:
        service.publish(kernel, db, "main", p.id)
    for p in products[:7]:
        sell(p)  # products 7, 8, 9 never sold: they are the weakest
    report = service.set_cap(kernel, db, "main", 7)
    assert (report.count, report.cap, report.over) == (10, 7, 3)
    assert {p.id for p in report.remove} == {p.id for p in products[7:10]}
    assert len(listed_ids(db)) == 10  # nothing dropped silently
    with pytest.raises(CapReached):
        service.publish(kernel, db, "main", products[20].id)
    # Swapping keeps the count, so it is still allowed while over the cap.
    service.swap(kernel, db, "main", products[9].id, products[20].id)
    assert products[20].id in listed_ids(db) and len(listed_ids(db)) == 10


def test_order_heroes_and_revision(kernel, db, products):
    a, b, c = products[:3]
    for p in (a, b, c):
        service.publish(kernel, db, "main", p.id)
    revision = core_settings.get(db, "core", "catalog_revision")
    service.move(kernel, db, "main", c.id, -2)
    assert listed_ids(db) == [c.id, a.id, b.id]
    service.move(kernel, db, "main", c.id, +5)
    assert listed_ids(db) == [a.id, b.id, c.id]
    assert core_settings.get(db, "core", "catalog_revision") > revision
    core_settings_put = [service.set_featured(kernel, db, "main", p.id, True) for p in (a, b, c)]
    assert len(core_settings_put) == 3
    with write_transaction(db):
        core_settings.put(db, "curation", "max_featured", 3)
    d = products[3]
    service.publish(kernel, db, "main", d.id)
    with pytest.raises(ValidationError):
        service.set_featured(kernel, db, "main", d.id, True)
    service.set_featured(kernel, db, "main", a.id, False)
    service.set_featured(kernel, db, "main", d.id, True)


def test_fill_takes_best_sellers_first_then_shop_order(kernel, db, products, sell):
    sell(products[39], 5)
    assert service.fill(kernel, db, "main") == 30
    ids = listed_ids(db)
    assert ids[0] == products[39].id and len(ids) == 30
    assert service.fill(kernel, db, "main") == 0


def test_named_catalogs_have_their_own_cap(kernel, db, products):
    catalog = service.ensure_catalog(kernel, db, "distributor:7", "Li's picks", owner_key="distributor:7", cap=2)
    assert service.ensure_catalog(kernel, db, "distributor:7").id == catalog.id
    service.publish(kernel, db, "distributor:7", products[0].id)
    service.publish(kernel, db, "distributor:7", products[1].id)
    with pytest.raises(CapReached):
        service.publish(kernel, db, "distributor:7", products[2].id)
    assert listed_ids(db, "main") == []
    with pytest.raises(ValidationError):
        service.ensure_catalog(kernel, db, "Bad Key!")
    with pytest.raises(ValidationError):
        service.delete_catalog(kernel, db, "main")
    service.delete_catalog(kernel, db, "distributor:7")


def test_storefront_lists_the_curated_catalog_without_price_sorts(client, kernel, db, products, shop_page):
    service.publish(kernel, db, "main", products[5].id)
    service.publish(kernel, db, "main", products[2].id)
    service.set_featured(kernel, db, "main", products[2].id, True)
    html = shop_page("/?sort=price_desc")
    assert "Product 6" in html and "Product 3" in html and "Product 1<" not in html
    assert html.index("Product 6") < html.rindex("Product 3")  # manual order in the grid
    assert "sort=price" not in html and "curation-heroes" in html
    assert client.get(f"/p/{products[0].id}").status_code == 200  # unlisted stays reachable
    assert client.get("/static/curation/curation.css").status_code == 200


def test_named_catalog_page(client, kernel, db, products, shop_page):
    service.ensure_catalog(kernel, db, "spring-fair", "Spring fair", cap=5)
    assert "This selection is being prepared" in shop_page("/c/spring-fair")
    service.publish(kernel, db, "spring-fair", products[3].id)
    html = shop_page("/c/spring-fair")
    assert "Spring fair" in html and "Product 4" in html
    assert client.get("/c/missing").status_code == 404
    assert client.get("/c/main").status_code == 404
