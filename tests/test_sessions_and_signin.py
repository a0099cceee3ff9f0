"""Sessions end when they should, and passwords cannot be guessed by brute force.

- Signing out, changing the password and deactivating staff end every copy of the session
  (a shopper's session cookie, a remember cookie, a staff cookie), on every worker: the
  member's or staff member's ``session_version`` is in the database and in the cookie.
- "Strong" session protection binds a shopper's session to the client's address, which comes
  from ``X-Forwarded-For`` only behind a configured proxy (``PROXY_FIX``).
- After 5 wrong passwords an address is locked (60 s, doubling up to an hour), from whatever
  client address the tries came; even the right password is refused while it lasts; an owner
  can lift it; unknown addresses are locked the same way.

The concurrency proof (simultaneous wrong passwords all count) is in
``test_signin_races_pg.py``.
"""
from datetime import timedelta

import pytest
from backoffice_helpers import AGENT_PW, OWNER_PW, admin_csrf, make_staff, staff_login
from conftest import csrf, fresh, login
from sqlalchemy import select, update

from siyu.core import signin
from siyu.core.db import utcnow, write_transaction
from siyu.core.members import authenticate, sign_up
from siyu.core.models import Member, SignInFailure, StaffUser
from siyu.core.signin import AccountLocked
from siyu.core.staff import authenticate_staff

EN = {"Accept-Language": "en"}
SESSION = "siyu_session"
STAFF = "siyu_staff"


def copy_cookie(client, name, path="/"):
    cookie = client.get_cookie(name, path=path)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def with_cookie(app, name, value, path="/"):
    """Another browser (same address and user agent) holding a copied cookie."""
    other = app.test_client()
    other.set_cookie(name, value, path=path)
    return other


def refused_to_login(response, login_path="/account/login"):
    return response.status_code == 302 and login_path in response.headers["Location"]


def member_logout(client):
    return client.post("/account/logout", data={"csrf_token": csrf(client, "/")})


def try_login(client, email, password, address="127.0.0.1"):
    token = csrf(client, "/account/login")
    return client.post("/account/login", data={"email": email, "password": password, "csrf_token": token},
                       headers=EN, environ_base={"REMOTE_ADDR": address})


def try_staff_login(client, email, password, address="127.0.0.1"):
    token = csrf(client, "/admin/login")
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token},
                       headers=EN, environ_base={"REMOTE_ADDR": address})


# -- sessions end -----------------------------------------------------------------------------

def test_a_shopper_cookie_copied_before_logout_no_longer_opens_the_account(app, member_client):
    copy = copy_cookie(member_client, SESSION)
    thief = with_cookie(app, SESSION, copy)
    assert thief.get("/account/orders").status_code == 200  # the copy works while signed in
    assert member_logout(member_client).status_code == 302
    assert refused_to_login(thief.get("/account/orders"))
    assert refused_to_login(with_cookie(app, SESSION, copy).get("/account/orders"))
    assert refused_to_login(member_client.get("/account/orders"))


def test_a_staff_cookie_copied_before_logout_no_longer_opens_the_back_office(app, client, db):
    owner = make_staff(db, "owner")
    staff_login(client, owner)
    copy = copy_cookie(client, STAFF, path="/admin")
    assert with_cookie(app, STAFF, copy, "/admin").get("/admin/orders").status_code == 200
    assert client.post("/admin/logout", data={"csrf_token": admin_csrf(client)}).status_code == 302
    assert refused_to_login(with_cookie(app, STAFF, copy, "/admin").get("/admin/orders"), "/admin/login")
    # Signing in again works, with a new cookie; the old copy stays dead.
    staff_login(client, owner)
    assert client.get("/admin/orders").status_code == 200
    assert refused_to_login(with_cookie(app, STAFF, copy, "/admin").get("/admin/orders"), "/admin/login")


def test_a_remember_cookie_copied_before_logout_stops_working(app, client, member):
    from flask_login.utils import encode_cookie

    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    with app.test_request_context():
        remember = encode_cookie(member.get_id())  # what login_user(member, remember=True) sets
    assert with_cookie(app, name, remember).get("/account/orders").status_code == 200
    login(client)  # the member, on any device, signs out
    member_logout(client)
    assert refused_to_login(with_cookie(app, name, remember).get("/account/orders"))


def test_a_password_change_ends_the_other_sessions_of_a_shopper(app, member_client, db, member):
    other_device = app.test_client()
    login(other_device)
    copy = copy_cookie(member_client, SESSION)
    token = csrf(member_client, "/account/password")
    wrong = member_client.post("/account/password", data={"csrf_token": token, "current_password": "not-it-at-all",
                                                          "new_password": "a-new-password-9"}, headers=EN)
    assert wrong.status_code == 422 and "The current password is not correct." in wrong.get_data(as_text=True)
    short = member_client.post("/account/password", data={"csrf_token": token, "current_password": "correct-horse",
                                                          "new_password": "short"}, headers=EN)
    assert short.status_code == 422
    changed = member_client.post("/account/password", data={"csrf_token": token, "current_password": "correct-horse",
                                                            "new_password": "a-new-password-9"})
    assert changed.status_code == 302
    assert member_client.get("/account/orders").status_code == 200  # this browser goes on
    assert refused_to_login(other_device.get("/account/orders"))
    assert refused_to_login(with_cookie(app, SESSION, copy).get("/account/orders"))
    assert try_login(app.test_client(), "buyer@example.com", "correct-horse").status_code == 401
    assert try_login(app.test_client(), "buyer@example.com", "a-new-password-9").status_code == 302


def test_a_password_change_ends_the_other_sessions_of_a_staff_member(app, client, db):
    owner = make_staff(db, "owner")
    staff_login(client, owner)
    other_device = staff_login(app.test_client(), owner)
    copy = copy_cookie(client, STAFF, path="/admin")
    token = admin_csrf(client, "/admin/password")
    weak = client.post("/admin/password", data={"csrf_token": token, "current_password": OWNER_PW,
                                                "new_password": "short"}, headers=EN)
    assert weak.status_code == 422
    changed = client.post("/admin/password", data={"csrf_token": token, "current_password": OWNER_PW,
                                                   "new_password": "white-peony-2027-tea"})
    assert changed.status_code == 302
    assert client.get("/admin/orders").status_code == 200
    assert refused_to_login(other_device.get("/admin/orders"), "/admin/login")
    assert refused_to_login(with_cookie(app, STAFF, copy, "/admin").get("/admin/orders"), "/admin/login")
    assert try_staff_login(app.test_client(), owner.email, OWNER_PW).status_code == 401
    assert try_staff_login(app.test_client(), owner.email, "white-peony-2027-tea").status_code == 302


def test_deactivating_staff_ends_their_sessions_even_after_reactivation(app, client, db):
    owner, agent = make_staff(db, "owner"), make_staff(db, "agent")
    staff_login(client, owner)
    agent_client = staff_login(app.test_client(), agent)
    copy = copy_cookie(agent_client, STAFF, path="/admin")
    token = admin_csrf(client, "/admin/staff")
    client.post(f"/admin/staff/{agent.id}/active", data={"csrf_token": token, "active": "0"})
    assert refused_to_login(agent_client.get("/admin/orders"), "/admin/login")
    client.post(f"/admin/staff/{agent.id}/active", data={"csrf_token": token, "active": "1"})
    assert refused_to_login(with_cookie(app, STAFF, copy, "/admin").get("/admin/orders"), "/admin/login")
    assert staff_login(app.test_client(), agent).get("/admin/orders").status_code == 200


def test_signing_out_ends_the_members_sessions_in_the_database(member_client, db, member):
    before = fresh(db).get(Member, member.id).session_version
    member_logout(member_client)
    assert fresh(db).get(Member, member.id).session_version == before + 1


# -- session protection and proxies ------------------------------------------------------------

def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(app, member_client):
    # The shopper signed in from 127.0.0.1: a header naming another address changes nothing...
    assert member_client.get("/account/orders", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
    # ...and a copied cookie used from elsewhere cannot borrow the victim's address through it.
    thief = with_cookie(app, SESSION, copy_cookie(member_client, SESSION))
    response = thief.get("/account/orders", headers={"X-Forwarded-For": "127.0.0.1"},
                         environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert refused_to_login(response)


@pytest.mark.parametrize("siyu_config", [{"PROXY_FIX": 1}])
def test_x_forwarded_for_is_honoured_behind_a_configured_proxy(app, member):
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    shopper = app.test_client()
    token = csrf(shopper, "/account/login")
    response = shopper.post("/account/login", data={"email": member.email, "password": "correct-horse",
                                                    "csrf_token": token},
                            headers={"X-Forwarded-For": "198.51.100.20"}, environ_base=proxy)
    assert response.status_code == 302
    copy = copy_cookie(shopper, SESSION)
    # The proxy's entry is the client; what the client itself put before it is not trusted.
    same = {"X-Forwarded-For": "6.6.6.6, 198.51.100.20"}
    assert shopper.get("/account/orders", headers=same, environ_base=proxy).status_code == 200
    moved = {"X-Forwarded-For": "198.51.100.20, 203.0.113.5"}
    assert refused_to_login(with_cookie(app, SESSION, copy).get("/account/orders", headers=moved,
                                                                 environ_base=proxy))


# -- brute force: the per-account lock ---------------------------------------------------------

def test_five_wrong_passwords_from_five_addresses_lock_the_account(client, member):
    codes = [try_login(client, member.email, f"wrong-{i}", f"198.51.100.{i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    right = try_login(client, member.email, "correct-horse", "203.0.113.1")
    assert right.status_code == 429
    assert "Too many failed sign-in attempts" in right.get_data(as_text=True)
    assert 0 < int(right.headers["Retry-After"]) <= 60
    assert refused_to_login(client.get("/account/orders"))


def test_an_unknown_address_is_locked_the_same_way(app, member):
    def answers(email):
        client = app.test_client()
        responses = [try_login(client, email, f"wrong-{i}", f"198.51.100.{i}") for i in range(6)]
        return [(r.status_code, "Too many failed sign-in attempts" in r.get_data(as_text=True)) for r in responses]

    assert answers("nobody@example.com") == answers(member.email)


def test_a_successful_sign_in_resets_the_count(client, member):
    for i in range(4):
        assert try_login(client, member.email, f"wrong-{i}").status_code == 401
    assert try_login(client, member.email, "correct-horse").status_code == 302
    member_logout(client)
    for i in range(4):
        assert try_login(client, member.email, f"wrong-again-{i}").status_code == 401
    assert try_login(client, member.email, "correct-horse").status_code == 302


def test_the_lock_lapses_by_itself(client, db, member):
    for i in range(5):
        try_login(client, member.email, f"wrong-{i}")
    assert try_login(client, member.email, "correct-horse").status_code == 429
    with write_transaction(db):
        db.execute(update(SignInFailure).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert try_login(client, member.email, "correct-horse").status_code == 302
    assert fresh(db).scalar(select(SignInFailure)) is None  # counting starts again


def test_backoff_doubles_and_stops_at_an_hour(kernel, db, member):
    start = utcnow()
    for i in range(4):
        assert authenticate(kernel, db, member.email, "wrong", now=start) is None
    with pytest.raises(AccountLocked) as fifth:
        authenticate(kernel, db, member.email, "wrong", now=start)
    assert fifth.value.until == start + timedelta(seconds=60)
    # While locked, tries are refused without being counted, whatever the password.
    with pytest.raises(AccountLocked):
        authenticate(kernel, db, member.email, "correct-horse", now=start + timedelta(seconds=59))
    assert signin.state(fresh(db), "member", member.email).failures == 5
    now, locks = start, []
    for _ in range(8):
        now = now + timedelta(hours=1, seconds=1)
        with pytest.raises(AccountLocked) as again:
            authenticate(kernel, db, member.email, "wrong", now=now)
        locks.append(int((again.value.until - now).total_seconds()))
    assert locks == [120, 240, 480, 960, 1920, 3600, 3600, 3600]
    # Failures older than a day no longer count; the right password after a lapsed lock works.
    later = now + timedelta(days=1, seconds=1)
    assert authenticate(kernel, db, member.email, "wrong", now=later) is None
    assert signin.state(fresh(db), "member", member.email).failures == 1
    assert authenticate(kernel, db, member.email, "correct-horse", now=later).id == member.id


def test_the_owner_unlocks_a_member_from_the_back_office(app, client, db, member):
    for i in range(5):
        try_login(client, member.email, f"wrong-{i}")
    assert try_login(client, member.email, "correct-horse").status_code == 429
    agent = staff_login(app.test_client(), make_staff(db, "agent"))
    page = agent.get(f"/admin/members/{member.id}", headers=EN).get_data(as_text=True)
    assert "Sign-in locked until" in page and "Unlock sign-in" not in page  # agents see, owners unlock
    owner = staff_login(app.test_client(), make_staff(db, "owner"))
    page = owner.get(f"/admin/members/{member.id}", headers=EN).get_data(as_text=True)
    assert "Sign-in locked until" in page and "Unlock sign-in" in page
    assert owner.post(f"/admin/members/{member.id}/unlock", data={}).status_code == 400  # CSRF
    assert owner.post(f"/admin/members/{member.id}/unlock", data={"csrf_token": admin_csrf(owner)}).status_code == 302
    assert try_login(client, member.email, "correct-horse").status_code == 302


def test_staff_sign_in_is_locked_and_the_owner_unlocks_it(app, client, db):
    owner, agent = make_staff(db, "owner"), make_staff(db, "agent")
    codes = [try_staff_login(client, agent.email, f"wrong-password-{i}", f"198.51.100.{i}").status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    locked = try_staff_login(client, agent.email, AGENT_PW, "203.0.113.1")
    assert locked.status_code == 429 and "ask an owner to unlock" in locked.get_data(as_text=True)
    owner_client = staff_login(app.test_client(), owner)
    page = owner_client.get("/admin/staff", headers=EN).get_data(as_text=True)
    assert "Sign-in locked until" in page and f"/admin/staff/{agent.id}/unlock" in page
    response = owner_client.post(f"/admin/staff/{agent.id}/unlock", data={"csrf_token": admin_csrf(owner_client)})
    assert response.status_code == 302
    assert try_staff_login(client, agent.email, AGENT_PW).status_code == 302


def test_an_owner_locked_out_can_be_unlocked_from_the_command_line(runner, kernel, db):
    owner = make_staff(db, "owner")
    for _ in range(4):
        assert authenticate_staff(kernel, db, owner.email, "wrong") is None
    with pytest.raises(AccountLocked):
        authenticate_staff(kernel, db, owner.email, "wrong")
    with pytest.raises(AccountLocked):
        authenticate_staff(kernel, db, owner.email, OWNER_PW)
    result = runner.invoke(args=["siyu", "unlock-signin", "--staff", owner.email.upper()])
    assert result.exit_code == 0 and "unlocked" in result.output, result.output
    assert authenticate_staff(kernel, fresh(db), owner.email, OWNER_PW).id == owner.id


def test_the_shop_and_the_back_office_count_apart(db, kernel):
    sign_up(kernel, db, email="both@shop.cn", password="member-password", name="Both")
    staff = make_staff(db, "agent", email="both@shop.cn")
    for _ in range(4):
        authenticate(kernel, db, "both@shop.cn", "wrong")
    assert authenticate_staff(kernel, db, "both@shop.cn", AGENT_PW).id == staff.id
    assert signin.state(fresh(db), "member", "both@shop.cn").failures == 4
    assert db.scalar(select(StaffUser.id).where(StaffUser.email == "both@shop.cn")) == staff.id


@pytest.mark.parametrize("siyu_config", [{"SIGNIN_LOCK_AFTER": 2, "SIGNIN_LOCK_SECONDS": 600}])
def test_the_lock_follows_the_shops_configuration(kernel, db, member):
    start = utcnow()  # the kernel's configuration reaches the lock, not the defaults (5, 60 s)
    assert authenticate(kernel, db, member.email, "wrong", now=start) is None
    with pytest.raises(AccountLocked) as locked:
        authenticate(kernel, db, member.email, "wrong", now=start)
    assert locked.value.until == start + timedelta(seconds=600)
