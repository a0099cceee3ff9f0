"""Back office and storefront pages: tagging from the member page, segments, levels, card."""
import json

from crm_helpers import AGENT_PW, buy, complete_order
from sqlalchemy import select

from siyu.plugin import write_transaction
from siyu.plugin.testing import csrf_token, fresh, login, make_member, staff_login

from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import Level, MemberStats, MemberTag, PointEntry, Segment


def test_tagging_from_the_member_page(client, db, member, owner, agent):
    group = tags_mod.create_group(db, "人生阶段")
    tag = tags_mod.create_tag(db, "备孕", group.id)
    staff_login(client, "agent@shop.cn", AGENT_PW)
    page = client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert "备孕" in page and "crm/members" in page
    token = csrf_token(client, f"/admin/members/{member.id}")
    response = client.post(f"/admin/crm/members/{member.id}/tags", data={"tag_id": tag.id, "csrf_token": token,
                                                                        "next": f"/admin/members/{member.id}"})
    assert response.status_code == 302
    link = fresh(db).get(MemberTag, (member.id, tag.id))
    assert link.source == "manual" and link.staff_id == agent.id
    # an agent may tag but not see the data-rights tools
    assert "export.json" not in client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    bad = client.post(f"/admin/crm/members/{member.id}/tags", data={"tag_id": "x", "csrf_token": token})
    assert bad.status_code == 302  # flashed, not a 500
    assert client.post(f"/admin/crm/members/{member.id}/tags", data={"tag_id": tag.id}).status_code == 400
    client.post(f"/admin/crm/members/{member.id}/tags/{tag.id}/remove", data={"csrf_token": token})
    assert fresh(db).get(MemberTag, (member.id, tag.id)) is None


def test_rule_tag_follows_orders(kernel, db, member, product):
    rule = tags_mod.create_tag(db, "回头客", rule={"kind": "orders_at_least", "n": 2})
    buy(kernel, db, member, product)
    assert fresh(db).get(MemberTag, (member.id, rule.id)) is None
    buy(kernel, db, member, product)
    assert fresh(db).get(MemberTag, (member.id, rule.id)).source == "rule"


def test_owner_builds_a_segment_and_exports_it(kernel, db, owner_client, member, product):
    tag = tags_mod.create_tag(db, "宝妈")
    other = make_member(kernel, db, "other@example.com")
    tags_mod.tag_member(db, member.id, tag.id, None)
    buy(kernel, db, other, product)
    client = owner_client
    preview = client.get(f"/admin/crm/segments/new?preview=1&tags_any={tag.id}").get_data(as_text=True)
    assert "1 members match" in preview or "1 位会员符合" in preview
    token = csrf_token(client, "/admin/crm/segments/new")
    response = client.post("/admin/crm/segments", data={"name": "宝妈", "tags_any": [tag.id], "csrf_token": token})
    assert response.status_code == 302
    segment = fresh(db).scalar(select(Segment))
    detail = client.get(f"/admin/crm/segments/{segment.id}").get_data(as_text=True)
    assert member.email not in detail or "buyer" in detail
    csv_body = client.get(f"/admin/crm/segments/{segment.id}/export.csv").get_data(as_text=True)
    assert csv_body.splitlines()[0].startswith("member_id,email")
    assert "buyer@example.com" in csv_body and "other@example.com" not in csv_body
    empty = client.post("/admin/crm/segments", data={"name": "", "csrf_token": token})
    assert empty.status_code == 302 and fresh(db).scalar(select(Segment.name).where(Segment.name == "")) is None


def test_levels_member_price_and_card(kernel, db, client, owner, member, product):
    staff_login(client)
    token = csrf_token(client, "/admin/crm/levels")
    client.post("/admin/crm/levels", data={"name": "Gold", "threshold": "10000", "price_percent": "90",
                                           "exclusive_skus": "", "benefits": "9折", "csrf_token": token})
    level = fresh(db).scalar(select(Level))
    assert level.price_percent == 90
    paid = buy(kernel, db, member, product)  # spends 100.00: Gold once the order is completed
    assert fresh(db).get(MemberStats, member.id).level_id is None
    complete_order(kernel, db, paid)
    assert fresh(db).get(MemberStats, member.id).level_id == level.id
    order = buy(kernel, db, member, product)
    adj = next(a for a in order.adjustments if a.code == "member_price")
    assert adj.amount == -1000 and adj.stage == "item" and order.total == 9000
    login(client)
    card = client.get("/account/member-card").get_data(as_text=True)
    assert "Gold" in card and "9折" in card
    assert "/account/member-card" in client.get("/account/orders").get_data(as_text=True)


def test_exclusive_item_refused_below_its_level(kernel, db, member):
    from siyu.plugin.testing import make_product

    import pytest
    from siyu.plugin import SiyuError

    with write_transaction(db):
        db.add(Level(name="Gold", threshold=100000, price_percent=100, exclusive_skus=["RARE-1"], benefits=""))
    rare = make_product(db, "RARE-1", price=5000)
    with pytest.raises(SiyuError):
        buy(kernel, db, member, rare, pay=False)


def test_data_export_and_anonymise(kernel, db, owner_client, member, product):
    tag = tags_mod.create_tag(db, "备孕")
    tags_mod.tag_member(db, member.id, tag.id, None)
    order = buy(kernel, db, member, product, complete=True)
    client = owner_client
    data = json.loads(client.get(f"/admin/crm/members/{member.id}/export.json").get_data(as_text=True))
    assert data["member"]["email"] == "buyer@example.com"
    assert data["orders"][0]["number"] == order.number
    assert data["crm_tags"]["tags"][0]["tag"] == "备孕"
    assert data["crm_tags"]["points_ledger"][0]["delta"] == 100
    token = csrf_token(client, f"/admin/members/{member.id}")
    refused = client.post(f"/admin/crm/members/{member.id}/anonymise", data={"csrf_token": token})
    assert refused.status_code == 302 and fresh(db).get(type(member), member.id).active
    client.post(f"/admin/crm/members/{member.id}/anonymise", data={"csrf_token": token, "confirm": "yes"})
    gone = fresh(db).get(type(member), member.id)
    assert gone.email.startswith("anonymised-") and not gone.active and gone.name == ""
    assert db.scalar(select(MemberTag).where(MemberTag.member_id == member.id)) is None
    assert db.scalar(select(PointEntry.delta).where(PointEntry.member_id == member.id)) == 100  # ledger kept
    assert db.get(type(order), order.id).member_id == member.id


def test_dashboard_widgets_and_tags_page(kernel, db, owner_client, member, product):
    buy(kernel, db, member, product)
    page = owner_client.get("/admin/").get_data(as_text=True)
    assert "widget-crm_activity" in page and "widget-crm_levels" in page and "<svg" in page
    assert owner_client.get("/admin/crm/tags").status_code == 200
    assert owner_client.get("/admin/crm/segments").status_code == 200
    assert owner_client.get("/admin/crm/recompute").status_code == 200


def test_checkout_offers_points(kernel, db, client, member, product):
    with write_transaction(db):
        kernel.pm.hook.crm_tags_award_points(session=db, member_id=member.id, points=300, reason="gift", ref="g")
    login(client)
    token = csrf_token(client, f"/p/{product.id}")
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1, "csrf_token": token})
    page = client.get("/checkout").get_data(as_text=True)
    assert 'name="crm_points"' in page


def test_exclusive_badge_follows_level_changes(db, client, owner, product):
    """The product page's badge is cached with the catalog; saving or deleting a level renews it."""
    page = f"/p/{product.id}"
    assert "badge exclusive" not in client.get(page).get_data(as_text=True)
    staff_login(client)
    token = csrf_token(client, "/admin/crm/levels")
    client.post("/admin/crm/levels", data={"name": "Gold", "threshold": "10000", "price_percent": "100",
                                           "exclusive_skus": product.sku, "benefits": "", "csrf_token": token})
    html = client.get(page).get_data(as_text=True)
    assert "badge exclusive" in html and "Gold" in html.split("badge exclusive", 1)[1]
    level = fresh(db).scalar(select(Level))
    client.post(f"/admin/crm/levels/{level.id}/delete", data={"csrf_token": token})
    assert "badge exclusive" not in client.get(page).get_data(as_text=True)
