"""Member pages (calendar, check-in button, make-up, leaderboard, chat keyword), the back
office page, dashboard widget and settings form, rate limiting and the test clock."""
from datetime import timedelta

import pytest
from checkin_helpers import Rewards, at
from sqlalchemy import func, select, update

from siyu.plugin import Member, Message, sign_up, utcnow, write_transaction
from siyu.plugin.testing import csrf_token, fresh, login, staff_login
from siyu_checkin import service
from siyu_checkin.models import Checkin
from siyu_checkin.web.clock import now as clock_now

NOW = "2026-05-10T09:00:00+08:00"


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["checkin"], "CHECKIN_NOW": NOW}


@pytest.fixture
def client(app):
    english = app.test_client()
    english.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return english


@pytest.fixture
def member_client(client, member):
    login(client)
    return client


def checkins(db):
    return fresh(db).scalar(select(func.count()).select_from(Checkin))


def test_calendar_needs_a_member(client):
    response = client.get("/checkin")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_check_in_from_the_storefront_button(member_client, db):
    page = member_client.get("/checkin").get_data(as_text=True)
    assert "Check in today" in page and 'data-day="2026-05-10"' in page and "checkin.css" in page
    assert member_client.post("/checkin").status_code == 400  # no CSRF token
    response = member_client.post("/checkin", data={"csrf_token": csrf_token(member_client, "/checkin")})
    assert response.status_code == 302
    page = member_client.get("/checkin").get_data(as_text=True)
    assert "Checked in! Streak: 1 days." in page and "Checked in today" in page
    assert 'class="is-daily is-today"' in page
    again = member_client.post("/checkin", headers={"Accept": "application/json",
                                                    "X-CSRFToken": csrf_token(member_client, "/checkin")})
    assert again.status_code == 200 and again.json["status"] == "already"
    assert again.json["local_date"] == "2026-05-10"
    assert checkins(db) == 1


def test_json_check_in_and_the_test_clock(app, member_client, db):
    app.config["CHECKIN_NOW"] = "2026-05-11T00:00:01+08:00"
    token = csrf_token(member_client, "/checkin")
    response = member_client.post("/checkin", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 201 and response.json["local_date"] == "2026-05-11"
    with app.app_context():
        assert clock_now() == at("2026-05-11T00:00:01+08:00")
        app.config["TESTING"] = False  # a production shop ignores the override
        try:
            assert abs(clock_now() - utcnow()) < timedelta(seconds=5)
        finally:
            app.config["TESTING"] = True


def test_make_up_from_the_calendar(app, member_client, kernel, db, member, register_plugin):
    register_plugin(Rewards(balance=100), name="test-rewards")
    with write_transaction(db):
        db.execute(update(Member).where(Member.id == member.id).values(created_at=at("2026-01-01T00:00:00+00:00")))
    page = member_client.get("/checkin").get_data(as_text=True)
    assert "Make up" in page and "You can make up 2 missed days this month" in page
    token = csrf_token(member_client, "/checkin")
    response = member_client.post("/checkin/makeup", data={"day": "2026-05-09", "csrf_token": token})
    assert response.status_code == 302
    assert "Made up 2026-05-09" in member_client.get("/checkin").get_data(as_text=True)
    bad = member_client.post("/checkin/makeup", data={"day": "2026-06-01", "csrf_token": token},
                             headers={"Accept": "application/json"})
    assert bad.status_code == 422 and bad.json["title"]
    junk = member_client.post("/checkin/makeup", data={"day": "yesterday", "csrf_token": token})
    assert junk.status_code == 302
    assert checkins(db) == 1


def test_chat_keyword_checks_in_and_replies(member_client, db, member):
    token = csrf_token(member_client, "/chat")
    for text in ("签到", " CheckIn ", "签到吗"):
        assert member_client.post("/chat/messages", json={"text": text},
                                  headers={"X-CSRFToken": token}).status_code == 201
    assert checkins(db) == 1
    replies = db.scalars(select(Message.body).where(Message.direction == "out").order_by(Message.id)).all()
    assert len(replies) == 2 and "Streak: 1" in replies[0] and "already" in replies[1]


def test_leaderboard_masks_names(kernel, db, member_client, member):
    other = sign_up(kernel, db, email="zhang.wei@example.com", password="correct-horse", name="张伟")
    for n in (2, 1, 0):
        service.check_in(kernel, db, other, now=at(NOW) - timedelta(days=n))
    service.check_in(kernel, db, member, now=at(NOW))
    html = member_client.get("/checkin/leaderboard").get_data(as_text=True)
    assert "张**" in html and "张伟" not in html and "zhang.wei" not in html
    assert "Your rank: 2" in html


def test_empty_leaderboard_and_nav_link(member_client):
    html = member_client.get("/checkin/leaderboard").get_data(as_text=True)
    assert "Nobody has checked in this month yet" in html
    assert 'class="checkin-link"' in member_client.get("/").get_data(as_text=True)


def test_calendar_months_are_bounded(member_client):
    html = member_client.get("/checkin?month=2031-01").get_data(as_text=True)
    assert "2026-05" in html
    assert "2025-06" in member_client.get("/checkin?month=1999-01").get_data(as_text=True)


@pytest.mark.siyu_alone  # no rewards plugin (crm_tags, coupons) enabled
def test_back_office_page_widget_and_settings(app, client, kernel, db, member, owner, agent):
    service.check_in(kernel, db, member, now=at(NOW))
    staff_login(client, "agent@shop.cn", "oolong-hills-2026")
    page = client.get("/admin/checkin")
    assert page.status_code == 200 and "Latest check-ins" in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/checkin")
    assert client.post("/admin/checkin/rewards/retry", data={"csrf_token": token}).status_code == 403
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    staff_login(client)
    html = client.get("/admin/checkin").get_data(as_text=True)
    assert "Not delivered (no rewards plugin): 1" in html and "Deliver again" in html
    retried = client.post("/admin/checkin/rewards/retry", data={"csrf_token": csrf_token(client, "/admin/checkin")})
    assert retried.status_code == 302
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Daily check-in" in dashboard and "check-ins today" in dashboard and "<svg" in dashboard
    token = csrf_token(client, "/admin/plugins/checkin/settings")
    bad = client.post("/admin/plugins/checkin/settings", data={
        "csrf_token": token, "daily_points": "5", "bonus_points": "3=ten", "bonus_coupons": "",
        "cycle_days": "0", "keywords": "签到", "makeup_per_month": "2", "makeup_cost_points": "20",
        "reminder_minutes": "60"})
    assert bad.status_code == 422 and "3=ten" in bad.get_data(as_text=True)
    good = client.post("/admin/plugins/checkin/settings", data={
        "csrf_token": token, "daily_points": "2", "bonus_points": "3=10，7=50", "bonus_coupons": "7=WEEK7",
        "cycle_days": "7", "keywords": "签到, 打卡", "makeup_per_month": "1", "makeup_cost_points": "0",
        "reminders": "y", "reminder_minutes": "90"})
    assert good.status_code == 302
    from siyu_checkin.config import load

    cfg = load(fresh(db))
    assert (cfg.daily_points, cfg.bonus_points, cfg.bonus_coupons) == (2, {3: 10, 7: 50}, {7: "WEEK7"})


def test_chinese_pages(member_client):
    html = member_client.get("/checkin", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "每日签到" in html and "今日签到" in html and "Daily check-in" not in html
    token = csrf_token(member_client, "/checkin")
    member_client.post("/checkin", data={"csrf_token": token}, headers={"Accept-Language": "zh-CN"})
    html = member_client.get("/checkin", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "签到成功！已连续签到 1 天。" in html


def test_check_in_is_rate_limited(tmp_path, member):
    from siyu.plugin import migrate
    from siyu.plugin.testing import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'rl.db'}", "SECRET_KEY": "k", "TESTING": True,
                      "SECURE_COOKIES": False, "PLUGINS": ["checkin"]}, instance_path=str(tmp_path / "i"))
    migrate.upgrade(app.extensions["siyu"])
    with app.extensions["siyu"].db.Session() as s:
        sign_up(app.extensions["siyu"], s, email="buyer@example.com", password="correct-horse")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client)
    token = csrf_token(client, "/checkin")
    codes = [client.post("/checkin", data={"csrf_token": token}).status_code for _ in range(12)]
    assert codes[:10] == [302] * 10 and codes[-1] == 429
