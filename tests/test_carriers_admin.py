"""The carrier list: edited by owners with field errors per row, found by code or either name."""
from backoffice_helpers import admin_csrf
from conftest import fresh
from shipping_helpers import EN, signed_in

from siyu.core.carriers import find_carrier
from siyu.core.fulfilment_settings import DEFAULT_CARRIERS, fulfilment_settings, tracking_url


def row(i, code, zh, en, url=""):
    return {f"carriers-{i}-code": code, f"carriers-{i}-name_zh": zh, f"carriers-{i}-name_en": en,
            f"carriers-{i}-tracking_url": url}


def test_owner_edits_the_carrier_list_with_field_errors(app, db):
    owner = signed_in(app, db, "owner")
    page = owner.get("/admin/carriers", headers=EN).get_data(as_text=True)
    assert "顺丰速运" in page and 'name="carriers-7-code"' in page  # 7 carriers + blank rows
    token = admin_csrf(owner, "/admin/carriers")
    bad = owner.post("/admin/carriers", headers=EN, data={
        "csrf_token": token, **row(0, "SF", "顺丰", "SF"), **row(1, "sf", "顺丰 2", "SF 2"),
        **row(2, "pickup", "", "x"), **row(3, "dhl", "敦豪", "DHL", "javascript:alert({number})")})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "This code is already in the list." in html
    assert "not “pickup”" in html and "Required, at most 50 characters." in html and "containing {number}" in html
    assert fresh(db) and fulfilment_settings(db)["carriers"] == DEFAULT_CARRIERS  # nothing half-saved
    good = owner.post("/admin/carriers", data={
        "csrf_token": token, **row(0, "sf", "顺丰速运", "SF Express", "https://www.sf-express.com/{number}"),
        **row(1, "zto", "中通快递", "ZTO Express"), "carriers-1-remove": "1",
        **row(2, "DHL", "敦豪", "DHL", "https://www.dhl.com/track?id={number}")})
    assert good.status_code == 302
    values = fulfilment_settings(fresh(db))
    assert [c["code"] for c in values["carriers"]] == ["sf", "dhl"]
    assert tracking_url(values, "dhl", "JD 01") == "https://www.dhl.com/track?id=JD%2001"
    none_left = owner.post("/admin/carriers", headers=EN, data={"csrf_token": token, "carriers-0-remove": "1",
                                                               "carriers-1-remove": "1"})
    assert none_left.status_code == 422 and "Keep at least one carrier" in none_left.get_data(as_text=True)
    agent = signed_in(app, db, "agent", "agent2@shop.cn")
    assert agent.get("/admin/carriers").status_code == 403
    assert agent.post("/admin/carriers", data={"csrf_token": admin_csrf(agent, "/admin/shipping")}).status_code == 403


def test_carriers_are_found_by_code_or_either_name():
    assert find_carrier(DEFAULT_CARRIERS, " SF ")["code"] == "sf"
    assert find_carrier(DEFAULT_CARRIERS, "中通快递")["code"] == "zto"
    assert find_carrier(DEFAULT_CARRIERS, "zto express")["code"] == "zto"
    assert find_carrier(DEFAULT_CARRIERS, "chinapost") is None and find_carrier(DEFAULT_CARRIERS, "") is None
