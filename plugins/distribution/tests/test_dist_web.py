"""Referral links, the signed cookie, the distributor center and its privacy (IDOR)."""
import re

import pytest
from dist_helpers import link_of, make_distributor, make_owner, member, paid_order
from sqlalchemy import func, select

from siyu.plugin import Member, Touch
from siyu.plugin.testing import csrf_token, fresh, login, make_product, staff_login
from siyu_distribution import attribution, distributors, training
from siyu_distribution.models import Binding, Click, Distributor, Lesson, OrderAttribution, Payout

EN = {"Accept-Language": "en"}


@pytest.fixture
def seller(kernel, db):
    return make_distributor(kernel, db, name="seller")


def test_short_link_counts_one_click_per_visitor_per_day_and_sets_a_signed_cookie(client, db, seller):
    code = link_of(db, seller).code
    first = client.get(f"/r/{code}")
    assert first.status_code == 302 and first.headers["Location"].endswith("/")
    cookie = client.get_cookie(attribution.COOKIE)
    assert cookie is not None and "HttpOnly" in first.headers["Set-Cookie"]
    assert "Max-Age=2592000" in first.headers["Set-Cookie"]  # 30 days by default
    client.get(f"/r/{code}")
    client.get(f"/?ref={code}")
    fresh(db)
    assert db.scalar(select(func.count(Click.id))) == 1
    assert db.scalar(select(func.count(Touch.id)).where(Touch.value == code)) == 3


def test_bad_codes_are_ignored_without_error(client, db, seller):
    for bad in ("nope", "x" * 10, "<script>", "2" * 200):
        assert client.get(f"/r/{bad}").status_code in (302, 404)
        assert client.get("/", query_string={"ref": bad}).status_code == 200
    fresh(db)
    assert db.scalar(select(func.count(Click.id))) == 0
    assert db.scalar(select(func.count(Touch.id))) == 0
    assert client.get_cookie(attribution.COOKIE) is None


def test_suspended_distributors_links_stop_attributing(client, db, seller):
    distributors.suspend(db, seller.id, "fake reviews")
    client.get(f"/r/{link_of(db, seller).code}")
    fresh(db)
    assert db.scalar(select(func.count(Click.id))) == 0


def test_tampered_cookie_is_rejected(app, client, kernel, db, seller):
    other = make_distributor(kernel, db, name="other")
    client.get(f"/r/{link_of(db, seller).code}")
    token = client.get_cookie(attribution.COOKIE).value
    payload, rest = token.split(".", 1)
    forged = attribution.sign_ref("not-the-secret", link_of(db, other))
    assert attribution.read_ref(app.secret_key, token, 3600) is not None
    assert attribution.read_ref(app.secret_key, forged, 3600) is None
    assert attribution.read_ref(app.secret_key, payload[:-2] + "AA." + rest, 3600) is None
    assert attribution.read_ref(app.secret_key, token, -1) is None  # expired


def test_visitor_who_signs_up_after_a_referral_is_bound_and_their_order_attributed(client, kernel, db, seller):
    client.get(f"/r/{link_of(db, seller).code}")
    token = csrf_token(client, "/account/signup")
    response = client.post("/account/signup", data={"email": "new@example.com", "password": "correct-horse",
                                                    "name": "New", "csrf_token": token})
    assert response.status_code == 302
    fresh(db)
    buyer = db.scalar(select(Member).where(Member.email == "new@example.com"))
    binding = db.get(Binding, buyer.id)
    assert binding.distributor_id == seller.id == binding.first_distributor_id == binding.last_distributor_id
    order = paid_order(kernel, db, buyer, {make_product(db, price=10000).id: 1})
    assert db.get(OrderAttribution, order.id).distributor_id == seller.id


def test_first_touch_keeps_the_customer_and_last_touch_is_recorded(client, kernel, db, seller):
    other = make_distributor(kernel, db, name="other")
    buyer = member(kernel, db)
    login(client, buyer.email)
    client.get(f"/r/{link_of(db, seller).code}")
    client.get(f"/?ref={link_of(db, other).code}")
    fresh(db)
    binding = db.get(Binding, buyer.id)
    assert (binding.distributor_id, binding.first_distributor_id, binding.last_distributor_id) == \
        (seller.id, seller.id, other.id)


def test_distributor_center_and_poster(client, kernel, db, seller):
    login(client, db.get(Member, seller.member_id).email)
    html = client.get("/distribution/", headers=EN).get_data(as_text=True)
    link = link_of(db, seller)
    assert "Distributor center" in html and f"/r/{link.code}" in html and "<svg" in html
    poster = client.get(f"/distribution/links/{link.id}/poster.svg?download=1")
    assert poster.status_code == 200 and poster.mimetype == "image/svg+xml"
    assert "attachment" in poster.headers["Content-Disposition"] and b"<path d=\"M" in poster.data
    for page in ("orders", "commission", "team", "training"):
        assert client.get(f"/distribution/{page}", headers=EN).status_code == 200
    statement = client.get("/distribution/statement.csv")
    assert statement.status_code == 200 and statement.data.startswith(b"date,kind,bucket")


def test_a_distributor_sees_only_their_own_data(client, kernel, db, seller):
    other = make_distributor(kernel, db, name="other")
    other_link = link_of(db, other)
    login(client, db.get(Member, seller.member_id).email)
    assert client.get(f"/distribution/links/{other_link.id}/poster.svg").status_code == 404
    html = client.get("/distribution/", headers=EN).get_data(as_text=True)
    assert other_link.code not in html
    # the back office is not for distributors
    assert client.get(f"/admin/distribution/d/{other.id}").status_code == 302
    assert client.get("/admin/distribution/payouts").status_code == 302


def test_payout_above_payable_is_refused_on_the_page(client, kernel, db, seller):
    login(client, db.get(Member, seller.member_id).email)
    response = client.post("/distribution/payouts", data={"amount": "100.00", "csrf_token": csrf_token(client, "/distribution/")},
                           headers=EN)
    assert response.status_code == 422 and "at most" in response.get_data(as_text=True)
    fresh(db)
    assert db.scalar(select(func.count(Payout.id))) == 0


def test_apply_with_invitation_then_owner_approves(client, kernel, db, seller):
    make_owner(db)
    applicant = member(kernel, db, "applicant")
    login(client, applicant.email)
    code = link_of(db, seller).code
    page = client.get(f"/distribution/apply?invite={code}", headers=EN)
    assert "invited" in page.get_data(as_text=True)
    token = csrf_token(client, f"/distribution/apply?invite={code}")
    assert client.post("/distribution/apply", data={"invite": code, "motivation": "tea", "display_name": "A",
                                                    "csrf_token": token}).status_code == 302
    fresh(db)
    row = distributors.for_member(db, applicant.id)
    assert row.status == "applied" and row.recruiter_id == seller.id
    staff_login(client)
    listing = client.get("/admin/distribution/", headers=EN).get_data(as_text=True)
    assert "applicant@example.com" in listing
    token = csrf_token(client, f"/admin/distribution/d/{row.id}")
    assert client.post(f"/admin/distribution/d/{row.id}/reject", data={"csrf_token": token},
                       headers=EN).status_code == 422  # a reason is required
    assert client.post(f"/admin/distribution/d/{row.id}/approve", data={"csrf_token": token}).status_code == 302
    fresh(db)
    assert db.get(Distributor, row.id).status == "approved" and link_of(db, row) is not None
    for page in ("", "leaderboard", "tree", "ledger", "payouts", "rates", "lessons", "lessons/new",
                 f"d/{row.id}", f"tree?root={seller.id}"):
        assert client.get(f"/admin/distribution/{page}", headers=EN).status_code == 200, page
    assert client.get("/admin/distribution/payouts.csv").data.startswith(b"id,distributor_id")


def test_lessons_render_markdown_safely_and_training_gates_approval(client, kernel, db):
    from siyu.plugin import settings
    from siyu.plugin import write_transaction

    with write_transaction(db):
        settings.put(db, "distribution", "require_training", True)
    lesson = training.save_lesson(db, None, title="Our tea", body="# Hello\n\n<script>alert(1)</script>\n\n"
                                  "[x](javascript:alert(1)) **bold**")
    html = str(training.render(lesson.body))
    assert "<h1>Hello</h1>" in html and "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
    applicant = member(kernel, db, "learner")
    row = distributors.apply(db, applicant)
    from siyu.plugin import ValidationError
    with pytest.raises(ValidationError):
        distributors.approve(db, row.id)
    login(client, applicant.email)
    assert "&lt;script&gt;" in client.get(f"/distribution/training/{lesson.id}").get_data(as_text=True)
    client.post(f"/distribution/training/{lesson.id}/complete",
                data={"csrf_token": csrf_token(client, f"/distribution/training/{lesson.id}")})
    assert distributors.approve(db, row.id).status == "approved"
    assert db.get(Lesson, lesson.id) is not None


def test_recruiter_cycles_are_rejected(kernel, db, seller):
    from siyu.plugin import ValidationError

    child = make_distributor(kernel, db, recruiter=seller)
    grandchild = make_distributor(kernel, db, recruiter=child)
    with pytest.raises(ValidationError):
        distributors.set_recruiter(db, seller.id, grandchild.id)
    with pytest.raises(ValidationError):
        distributors.set_recruiter(db, seller.id, seller.id)
    distributors.set_recruiter(db, grandchild.id, seller.id)  # a move that keeps a tree is fine
    assert re.match(r"^[2-9a-z]{10}$", link_of(db, seller).code)


def test_settings_schema_caps_depth_at_three_and_code_does_too():
    import marshmallow

    from siyu_distribution.config import Settings, SettingsSchema

    assert SettingsSchema().load({})["depth"] == 2
    for bad in ({"depth": 4}, {"depth": 0}, {"tier1_bps": 9000, "tier2_bps": 2000}, {"level_rates": "2=x"}):
        with pytest.raises(marshmallow.ValidationError):
            SettingsSchema().load(bad)
    assert Settings(depth_setting=7).depth == 3


def test_release_command(runner, kernel, db, seller):
    result = runner.invoke(args=["siyu", "distribution", "release"])
    assert result.exit_code == 0, result.output
    assert "released 0" in result.output


def test_the_referral_cookie_reaches_the_hooks_as_attribution_not_from_the_request(kernel, db, seller):
    """The sign-up and checkout hooks read no request: the storefront hands them the verified
    cookie (``request_attribution``), so here, with no request at all, it is passed by hand."""
    from siyu.plugin import place_order, sign_up, utcnow

    ref = (seller.id, link_of(db, seller).code, utcnow())
    newcomer = sign_up(kernel, db, email="referred@example.com", password="correct-horse",
                       attribution={"distribution": ref})
    assert db.get(Binding, newcomer.id).distributor_id == seller.id
    order = place_order(kernel, db, member=newcomer, items={make_product(db, price=10000).id: 1}, payment_method="manual",
                        checkout_token="tok-attribution", attribution={"distribution": ref})
    row = db.get(OrderAttribution, order.id)
    assert (row.distributor_id, row.source) == (seller.id, "cookie")
