"""Back office → Follow-up work: failed outbox entries are listed for the owner, in Chinese and
English, with their error and a retry button (CSRF) that runs them again; agents are refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from backoffice_helpers import admin_csrf, make_staff, staff_login
from outbox_helpers import Notes, record
from sqlalchemy import select

from siyu.core import outbox_runner
from siyu.core.db import utcnow, write_transaction
from siyu.core.models import OutboxEntry

EN = {"Accept-Language": "en"}


@pytest.fixture
def notes(register_plugin):
    return register_plugin(Notes(), name="notes")


def fail_for_good(kernel, db, notes, key, order_id=None):
    """An entry whose three attempts (notes.flaky) all failed."""
    notes.failing[key] = -1
    record(kernel, db, key, task="notes.flaky", order_id=order_id)
    later = utcnow()
    for minutes in (1, 3):
        later += timedelta(minutes=minutes)
        outbox_runner.drain(kernel, now=later)
    db.rollback()
    found = db.scalar(select(OutboxEntry).where(OutboxEntry.key == key).execution_options(populate_existing=True))
    assert found.state == "failed"
    return found


def test_the_owner_sees_failed_work_and_retries_it(app, kernel, db, notes):
    failed = fail_for_good(kernel, db, notes, "stats-7")
    client = staff_login(app.test_client(), make_staff(db, "owner"))
    page = client.get("/admin/outbox", headers=EN).get_data(as_text=True)
    assert "Follow-up work" in page and "A flaky note" in page and "notes.flaky" in page
    assert "RuntimeError: stats-7 is not ready" in page and f'/admin/outbox/{failed.id}/retry' in page
    zh = client.get("/admin/outbox", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "后续任务" in zh and "重试" in zh and "失败" in zh
    assert 'href="/admin/outbox"' in client.get("/admin/", headers=EN).get_data(as_text=True)  # in the menu

    token = admin_csrf(client, "/admin/outbox")
    assert client.post(f"/admin/outbox/{failed.id}/retry").status_code == 400  # no CSRF token
    notes.failing["stats-7"] = 0  # whatever broke is fixed
    response = client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token}, headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/outbox?state=failed")
    assert notes.keys() == ["stats-7"]  # run right after the retry's commit
    page = client.get("/admin/outbox", headers=EN).get_data(as_text=True)
    assert "Done: the work ran again and succeeded." in page and "Nothing has failed" in page
    again = client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token}, headers=EN)
    assert "nothing to retry" in client.get(again.headers["Location"], headers=EN).get_data(as_text=True)
    for bad in ("0", "99999", "2147483648"):
        assert client.post(f"/admin/outbox/{bad}/retry", data={"csrf_token": token}).status_code == 404


def test_a_retry_that_fails_again_says_so_and_waiting_work_is_listed(app, kernel, db, notes):
    failed = fail_for_good(kernel, db, notes, "still-broken", order_id=5)
    record(kernel, db, "behind-it", order_id=5)  # waits for the failed one of its order
    now = utcnow()
    with write_transaction(db):  # recorded while its plugin was enabled; the plugin is gone now
        db.add(OutboxEntry(plugin="gone", task="gone.task", key="k", payload={}, state="pending", attempts=0,
                           next_attempt_at=now, last_error="", created_at=now))
    client = staff_login(app.test_client(), make_staff(db, "owner"))
    token = admin_csrf(client, "/admin/outbox")
    response = client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token, "state": "pending"},
                           headers=EN)
    assert response.headers["Location"].endswith("state=pending")
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    # The retry's first attempt failed at once; with attempts left it now waits for its backoff.
    assert "Queued: it runs again shortly." in page
    assert "behind-it" in page and "gone.task" in page and "Not enabled: waits for the plugin" in page
    assert "Next attempt:" in page
    assert client.get("/admin/outbox?state=bogus", headers=EN).status_code == 200  # unknown filter: failed


def test_many_failed_entries_are_paginated(app, kernel, db, notes):
    now = utcnow()
    with write_transaction(db):
        db.add_all(OutboxEntry(plugin="notes", task="notes.note", key=f"k{i:02d}", payload={}, state="failed",
                               attempts=8, next_attempt_at=now, last_error="boom", created_at=now)
                   for i in range(30))
    client = staff_login(app.test_client(), make_staff(db, "owner"))
    first = client.get("/admin/outbox", headers=EN).get_data(as_text=True)
    second = client.get("/admin/outbox?page=2", headers=EN).get_data(as_text=True)
    assert "k00" in first and "k24" in first and "k25" not in first
    assert "k25" in second and "k29" in second and "k00" not in second


def test_agents_may_not_see_or_retry_follow_up_work(app, kernel, db, notes):
    failed = fail_for_good(kernel, db, notes, "secret")
    client = staff_login(app.test_client(), make_staff(db, "agent"))
    assert client.get("/admin/outbox").status_code == 403
    token = admin_csrf(client, "/admin/")
    assert client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token}).status_code == 403
    assert 'href="/admin/outbox"' not in client.get("/admin/").get_data(as_text=True)
