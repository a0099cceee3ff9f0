"""Back-office pages: publishing, refusals shown as messages, settings, rotation widget."""
from sqlalchemy import select

from siyu.plugin import settings as core_settings
from siyu_curation import service
from siyu_curation.models import CurationItem

EN = {"Accept-Language": "en"}


def post(client, csrf, path, data, page="/admin/curation/c/main"):
    return client.post(path, data={**data, "csrf_token": csrf(client, page)}, headers=EN, follow_redirects=True)


def test_pages_need_staff_and_menu_shows_curation(client, owner, staff_login):
    assert client.get("/admin/curation/").status_code == 302
    staff_login(client)
    dashboard = client.get("/admin/", headers=EN).get_data(as_text=True)
    assert "/admin/curation/" in dashboard and "Curated catalog" in dashboard
    html = client.get("/admin/curation/", headers=EN).get_data(as_text=True)
    assert "Main catalog" in html and "0 / 30" in html


def test_agent_publishes_but_may_not_change_settings(client, agent, staff_login, products, csrf):
    staff_login(client, "agent@shop.cn", "oolong-hills-2026")
    html = post(client, csrf, "/admin/curation/c/main/publish", {"product_id": products[0].id}).get_data(as_text=True)
    assert "Published." in html and "1 / 30" in html
    assert client.get("/admin/curation/settings").status_code == 403
    assert client.post("/admin/curation/c/main/cap", data={"cap": 5, "csrf_token": csrf(client, "/admin/curation/")}
                       ).status_code == 403


def test_publishing_past_the_cap_is_refused_with_the_cap_named(owner_client, kernel, db, products, csrf):
    for p in products[:30]:
        service.publish(kernel, db, "main", p.id)
    response = post(owner_client, csrf, "/admin/curation/c/main/publish", {"product_id": products[30].id})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "holds at most 30 items" in html and "Product 30" in html  # the item to take out
    assert "The catalog is full (30 items)" in html


def test_without_csrf_nothing_is_published(owner_client, db, products):
    response = owner_client.post("/admin/curation/c/main/publish", data={"product_id": products[0].id})
    assert response.status_code == 400
    assert db.scalars(select(CurationItem)).all() == []


def test_bad_input_is_a_message_not_a_500(owner_client, csrf):
    response = post(owner_client, csrf, "/admin/curation/c/main/publish", {"product_id": "abc"})
    assert response.status_code == 422
    assert post(owner_client, csrf, "/admin/curation/c/main/move", {"product_id": 99, "offset": 1}).status_code == 200
    assert owner_client.get("/admin/curation/c/nope").status_code == 404


def test_catalog_page_orders_features_searches_and_paginates(owner_client, kernel, db, products, csrf):
    a, b = products[:2]
    post(owner_client, csrf, "/admin/curation/c/main/publish", {"product_id": a.id})
    post(owner_client, csrf, "/admin/curation/c/main/publish", {"product_id": b.id})
    post(owner_client, csrf, "/admin/curation/c/main/move", {"product_id": b.id, "offset": -1})
    html = post(owner_client, csrf, "/admin/curation/c/main/feature", {"product_id": b.id, "featured": 1}).get_data(as_text=True)
    assert html.index("Product 2") < html.index("Product 1<") and "★" in html
    assert "Page 1 of 2" in html  # 38 unlisted products, 20 a page
    found = owner_client.get("/admin/curation/c/main?q=P017", headers=EN).get_data(as_text=True)
    assert "Product 17" in found and "Product 18" not in found


def test_settings_form_from_the_schema_and_lowering_the_cap(owner_client, kernel, db, products, csrf):
    for p in products[:5]:
        service.publish(kernel, db, "main", p.id)
    bad = owner_client.post("/admin/curation/settings", headers=EN, data={
        "main_cap": 80, "max_featured": 3, "velocity_days": 30, "suggestions": 5,
        "csrf_token": csrf(owner_client, "/admin/curation/settings")})
    assert bad.status_code == 422 and "aria-invalid" in bad.get_data(as_text=True)
    html = post(owner_client, csrf, "/admin/curation/settings", {
        "main_cap": 3, "max_featured": 2, "velocity_days": 14, "suggestions": 5},
        page="/admin/curation/settings").get_data(as_text=True)
    assert "2 over its cap of 3" in html and 'id="over-cap"' in html
    db.rollback()
    assert core_settings.get(db, "curation", "max_featured") == 2
    assert len(db.scalars(select(CurationItem)).all()) == 5


def test_named_catalog_created_capped_and_deleted(owner_client, kernel, db, products, csrf):
    page = "/admin/curation/"
    html = post(owner_client, csrf, "/admin/curation/catalogs", {"key": "spring-fair", "title": "Spring", "cap": 2},
                page=page).get_data(as_text=True)
    assert "/c/spring-fair" in html
    post(owner_client, csrf, "/admin/curation/c/spring-fair/cap", {"cap": 1})
    post(owner_client, csrf, "/admin/curation/c/spring-fair/publish", {"product_id": products[0].id})
    html = post(owner_client, csrf, "/admin/curation/c/spring-fair/publish", {"product_id": products[1].id}).get_data(as_text=True)
    assert "holds at most 1 items" in html
    bad = post(owner_client, csrf, "/admin/curation/catalogs", {"key": "Bad Key", "title": "x", "cap": 2}, page=page)
    assert "lowercase" in bad.get_data(as_text=True)
    html = post(owner_client, csrf, "/admin/curation/c/spring-fair/delete", {}).get_data(as_text=True)
    assert "Catalog deleted." in html and "/c/spring-fair" not in html


def test_rotation_widget_suggests_and_swaps_in_one_click(owner_client, kernel, db, products, sell, csrf):
    for p in products[:30]:
        service.publish(kernel, db, "main", p.id)
    for p in products[:29]:
        sell(p, 1)
    sell(products[35], 4, buyer="a")
    sell(products[35], 2, buyer="a", days_ago=3)  # a repeat buyer, too
    html = owner_client.get("/admin/", headers=EN).get_data(as_text=True)
    assert "Rotation advice" in html
    assert "Swap “Product 30”" in html and "for “Product 36”" in html
    response = post(owner_client, csrf, "/admin/curation/c/main/swap",
                    {"remove": products[29].id, "add": products[35].id, "next": "dashboard"}, page="/admin/")
    assert response.status_code == 200 and "Swapped." in response.get_data(as_text=True)
    db.rollback()
    listed = set(db.scalars(select(CurationItem.product_id)))
    assert products[35].id in listed and products[29].id not in listed and len(listed) == 30


def test_widget_with_free_seats_suggests_adding(owner_client, kernel, db, products, sell):
    service.publish(kernel, db, "main", products[0].id)
    sell(products[5], 3)
    html = owner_client.get("/admin/", headers=EN).get_data(as_text=True)
    assert "Add “Product 6”" in html
