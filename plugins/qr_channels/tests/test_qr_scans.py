"""Scanning /q/<scene>: counted once per visitor per day, redirected with the attribution."""
from datetime import datetime, timedelta, timezone

import pytest
from qr_helpers import PHONE
from sqlalchemy import func, select

from siyu.plugin import settings, Touch, write_transaction
from siyu.plugin.testing import fresh, make_product
from siyu_qr_channels.channels import create_channel, update_channel
from siyu_qr_channels.models import DailyStats, DailyVisitor, Scan
from siyu_qr_channels.scans import device_class, record_scan

DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


def stats(db, channel):
    fresh(db)
    rows = db.scalars(select(DailyStats).where(DailyStats.channel_id == channel.id)).all()
    return sum(r.scans for r in rows), sum(r.bot_scans for r in rows), sum(r.uniques for r in rows)


@pytest.mark.parametrize("ua,expected", [
    (PHONE, "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124 Mobile Safari/537.36", "mobile"),
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "tablet"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/124 Safari/537.36", "tablet"),
    (DESKTOP, "desktop"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
    ("curl/8.5.0", "bot"),
    ("python-requests/2.31", "bot"),
    ("", "bot"),
    (None, "bot"),
])
def test_device_class(ua, expected):
    assert device_class(ua) == expected


def test_unknown_and_disabled_scenes_go_home_without_error(client, db):
    response = client.get("/q/nope")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/q/%E2%9C%93").status_code == 302  # not a valid scene at all
    off = create_channel(db, {"name": "Old poster", "scene": "old"})
    update_channel(db, off, {"name": "Old poster", "active": False})
    response = client.get("/q/old", headers={"User-Agent": PHONE})
    assert response.headers["Location"] == "/"
    assert stats(db, off) == (0, 0, 0)
    assert db.scalar(select(func.count(Scan.id))) == 0


def test_scan_redirects_to_the_target_with_the_channel_and_records_a_touch(client, db):
    product = make_product(db)
    channel = create_channel(db, {"name": "Tea fair", "kind": "event", "target": "product",
                                  "target_value": str(product.id)})
    response = client.get(f"/q/{channel.scene}", headers={"User-Agent": PHONE})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/{product.id}?ch={channel.scene}"
    assert response.headers["Cache-Control"] == "no-store"
    assert "siyu_vid=" in response.headers["Set-Cookie"]
    landing = client.get(response.headers["Location"], headers={"User-Agent": PHONE})
    assert landing.status_code == 200
    fresh(db)
    scan = db.scalar(select(Scan))
    touch = db.scalar(select(Touch))
    assert (scan.channel_id, scan.device) == (channel.id, "mobile")
    assert (touch.source, touch.value, touch.visitor_id) == ("channel", str(channel.id), scan.visitor_id)


@pytest.mark.parametrize("target,value,location", [
    ("home", "", "/?ch={s}"), ("signup", "", "/account/signup?ch={s}"),
    # Without a plugin that serves coupon pages, a coupon target falls back to the home page.
    pytest.param("coupon", "SPRING", "/?ch={s}", marks=pytest.mark.siyu_alone)])
def test_other_targets(client, db, target, value, location):
    channel = create_channel(db, {"name": "C", "target": target, "target_value": value})
    assert client.get(f"/q/{channel.scene}").headers["Location"] == location.format(s=channel.scene)


def test_inactive_product_target_falls_back_home(client, db):
    product = make_product(db, active=False)
    channel = create_channel(db, {"name": "C", "target": "product", "target_value": str(product.id)})
    assert client.get(f"/q/{channel.scene}").headers["Location"] == f"/?ch={channel.scene}"


def test_coupon_target_asks_the_coupons_plugin(client, db, register_plugin):
    from siyu.plugin import hookimpl

    class Coupons:
        @hookimpl
        def qr_channels_target_url(self, target, value):
            return f"/coupons/claim/{value}" if target == "coupon" else None

    register_plugin(Coupons(), name="coupons-test")
    channel = create_channel(db, {"name": "C", "target": "coupon", "target_value": "SPRING"})
    assert client.get(f"/q/{channel.scene}").headers["Location"] == f"/coupons/claim/SPRING?ch={channel.scene}"


def test_counted_once_per_visitor_per_day_and_bots_not_unique(client, app, db):
    channel = create_channel(db, {"name": "Counter"})
    for _ in range(3):
        client.get(f"/q/{channel.scene}", headers={"User-Agent": PHONE})
    other = app.test_client()
    other.get(f"/q/{channel.scene}", headers={"User-Agent": DESKTOP})
    app.test_client().get(f"/q/{channel.scene}", headers={"User-Agent": "Googlebot/2.1"})
    client.head(f"/q/{channel.scene}", headers={"User-Agent": PHONE})  # a link check is no scan
    assert stats(db, channel) == (4, 1, 2)
    assert db.scalar(select(func.count(Scan.id))) == 5
    assert db.scalar(select(func.count()).select_from(DailyVisitor)) == 2


def test_days_follow_the_shop_timezone(db):
    channel = create_channel(db, {"name": "Counter"})
    with write_transaction(db):
        settings.put(db, "core", "timezone", "Asia/Shanghai")
    late = datetime(2026, 3, 1, 15, 59, 59, tzinfo=timezone.utc)   # 23:59:59 in Shanghai
    assert record_scan(db, channel, visitor_id="v" * 20, device="mobile", at=late)
    assert not record_scan(db, channel, visitor_id="v" * 20, device="mobile", at=late - timedelta(hours=10))
    assert record_scan(db, channel, visitor_id="v" * 20, device="mobile", at=late + timedelta(seconds=1))
    days = {(r.day.isoformat(), r.scans, r.uniques) for r in db.scalars(select(DailyStats))}
    assert days == {("2026-03-01", 2, 1), ("2026-03-02", 1, 1)}


def test_direct_channel_links_record_a_touch_without_a_scan(client, db):
    channel = create_channel(db, {"name": "Newsletter", "scene": "news"})
    client.get("/?ch=news")
    client.get("/?ch=unknown")
    fresh(db)
    assert [(t.source, t.value) for t in db.scalars(select(Touch))] == [("channel", str(channel.id))]
    assert db.scalar(select(func.count(Scan.id))) == 0
