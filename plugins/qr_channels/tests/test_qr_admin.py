"""Back office: channel pages, codes and posters, the funnel report, CSV and the widget."""
from xml.etree import ElementTree

from qr_helpers import AGENT_PW
from sqlalchemy import select

from siyu.plugin.testing import csrf_token, make_product, staff_login
from siyu_qr_channels.channels import create_channel
from siyu_qr_channels.models import Channel


def test_pages_need_staff(client):
    for path in ("/admin/channels", "/admin/channels/new", "/admin/channels/report"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_empty_list_is_friendly_and_menu_shows_channels(owner_client):
    html = owner_client.get("/admin/channels", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No channels yet" in html and 'href="/admin/channels/new"' in html
    assert 'href="/admin/channels/report"' in html


def test_owner_creates_a_channel_and_prints_its_code(owner_client, db):
    token = csrf_token(owner_client, "/admin/channels/new")
    response = owner_client.post("/admin/channels/new", data={
        "csrf_token": token, "name": "门店收银台", "kind": "store", "target": "home", "scene": "",
        "notes": "", "active": "y"})
    assert response.status_code == 302
    channel = db.scalar(select(Channel))
    assert channel.scene == "1" and channel.active
    page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "http://localhost/q/1" in page and "<svg" in page

    svg = owner_client.get(f"/admin/channels/{channel.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = owner_client.get(f"/admin/channels/{channel.id}/qr.png")
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    poster = owner_client.get(f"/admin/channels/{channel.id}/poster.svg")
    body = poster.data.decode()
    assert "门店收银台" in body and "Siyu Shop" in body and "http://localhost/q/1" in body
    assert "attachment" in poster.headers["Content-Disposition"]
    for document in (svg.data, poster.data):  # well-formed, so printers and editors open them
        assert ElementTree.fromstring(document).tag.endswith("svg")


def test_printed_url_uses_the_base_url_setting(owner_client, db):
    from siyu.plugin import settings
    from siyu.plugin import write_transaction

    with write_transaction(db):
        settings.put(db, "qr_channels", "base_url", "https://tea.example/")
    channel = create_channel(db, {"name": "A"})
    assert "https://tea.example/q/1" in owner_client.get(f"/admin/channels/{channel.id}").get_data(as_text=True)


def test_bad_input_is_a_422_with_the_field_and_nothing_written(owner_client, db):
    token = csrf_token(owner_client, "/admin/channels/new")
    response = owner_client.post("/admin/channels/new", data={
        "csrf_token": token, "name": "A", "kind": "store", "target": "product", "target_value": "77",
        "scene": "100001"}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "permanent scene id from 1 to 100000" in html and "existing product" in html
    assert db.scalar(select(Channel)) is None
    response = owner_client.post("/admin/channels/new", data={"name": "A", "kind": "store"})
    assert response.status_code == 400  # no CSRF token


def test_owner_edits_but_the_scene_stays(owner_client, db):
    product = make_product(db)
    channel = create_channel(db, {"name": "A", "scene": "fair"})
    token = csrf_token(owner_client, f"/admin/channels/{channel.id}")
    response = owner_client.post(f"/admin/channels/{channel.id}", data={
        "csrf_token": token, "name": "Spring fair", "kind": "event", "target": "product",
        "target_value": str(product.id), "scene": "other"})
    assert response.status_code == 302
    db.expire_all()
    channel = db.get(Channel, channel.id)
    assert (channel.name, channel.kind, channel.scene, channel.active) == ("Spring fair", "event", "fair", False)


def test_agent_may_print_but_not_edit_or_see_the_report(client, agent, db):
    channel = create_channel(db, {"name": "A"})
    staff_login(client, "agent@shop.cn", AGENT_PW)
    assert client.get("/admin/channels").status_code == 200
    page = client.get(f"/admin/channels/{channel.id}").get_data(as_text=True)
    assert "<form method=\"post\" class=\"card" not in page
    assert client.get(f"/admin/channels/{channel.id}/poster.svg").status_code == 200
    token = csrf_token(client, "/admin/channels")
    assert client.post(f"/admin/channels/{channel.id}", data={"csrf_token": token, "name": "B"}).status_code == 403
    assert client.get("/admin/channels/new").status_code == 403
    assert client.get("/admin/channels/report").status_code == 403
    assert client.get("/admin/channels/404").status_code == 404


def test_report_chart_table_and_csv(owner_client, client, db):
    a = create_channel(db, {"name": "=cmd()", "scene": "fair"})
    create_channel(db, {"name": "Poster"})
    client.get("/q/fair", headers={"User-Agent": "Mozilla/5.0 (iPhone) Mobile"})
    html = owner_client.get("/admin/channels/report", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'class="chart funnel"' in html and "Unique visitors" in html and "No channel" in html
    one = owner_client.get(f"/admin/channels/report?channel={a.id}&model=last").get_data(as_text=True)
    assert "=cmd()" in one
    csv = owner_client.get("/admin/channels/report.csv?model=last")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    text = csv.data.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("channel_id,name,kind,scene,scans")
    assert any(line.startswith(f"{a.id},'=cmd(),store,fair,1,0,1,") for line in lines)


def test_report_refuses_bad_dates_with_a_clear_message(owner_client):
    for query in ("start=2026-13-01", "start=2026-05-02&end=2026-05-01", "start=2020-01-01&end=2026-01-01",
                  "model=linear"):
        response = owner_client.get(f"/admin/channels/report?{query}", headers={"Accept-Language": "en"})
        assert response.status_code == 422, query
    assert owner_client.get("/admin/channels/report.csv?start=bad").status_code == 422


def test_dashboard_widget_lists_top_channels(owner_client, client, db):
    html = owner_client.get("/admin/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Top channels, last 30 days" in html and "No channel activity" in html
    create_channel(db, {"name": "Counter", "scene": "counter"})
    client.get("/q/counter", headers={"User-Agent": "Mozilla/5.0 (iPhone) Mobile"})
    html = owner_client.get("/admin/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<td>Counter</td>" in html
