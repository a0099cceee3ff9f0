"""Settings are read once per session and kept for a few seconds: what a session sees when."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from siyu.core import settings
from siyu.core.db import write_transaction


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(settings, "monotonic", lambda: now[0])
    return now


def count_selects(engine):
    seen = []

    def record(_conn, _cursor, statement, *_args):
        if "FROM settings" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_one_read_serves_every_plugin_of_the_session(kernel, db, clock):
    with write_transaction(db):
        settings.put(db, "alpha", "size", 3)
        settings.put(db, "beta", "colour", "red")
    seen = count_selects(kernel.db.engine)
    assert settings.get_all(db, "alpha") == {"size": 3}
    assert settings.get_all(db, "beta") == {"colour": "red"}
    assert settings.get_all(db, "gamma") == {}
    assert settings.get_all(db, "core")["currency"] == "CNY"  # the shop's defaults
    with write_transaction(db):  # the session's next transaction reuses what it read
        assert settings.get_all(db, "alpha") == {"size": 3}
    assert len(seen) == 1


def test_a_put_in_the_same_session_is_seen_at_once(db, clock):
    assert settings.get_all(db, "alpha") == {}
    with write_transaction(db):
        settings.put(db, "alpha", "size", 3)
        assert settings.get_all(db, "alpha") == {"size": 3}  # inside the writing transaction
    assert settings.get_all(db, "alpha") == {"size": 3}
    with write_transaction(db):
        settings.bump_catalog_revision(db)
    assert settings.get_all(db, "core")["catalog_revision"] == 1


def test_another_sessions_change_is_seen_after_the_ttl_or_in_a_new_session(kernel, db, clock):
    with write_transaction(db):
        settings.put(db, "alpha", "size", 3)
    assert settings.get_all(db, "alpha") == {"size": 3}
    with kernel.db.Session() as other, write_transaction(other):
        settings.put(other, "alpha", "size", 4)
    clock[0] += settings.CACHE_SECONDS - 0.5
    assert settings.get_all(db, "alpha") == {"size": 3}  # still what this session read
    with kernel.db.Session() as fresh:
        assert settings.get_all(fresh, "alpha") == {"size": 4}
    db.commit()  # (a transaction already open keeps its snapshot, cached or not)
    assert settings.get_all(db, "alpha") == {"size": 3}
    clock[0] += 0.5
    assert settings.get_all(db, "alpha") == {"size": 4}


def test_a_rolled_back_put_is_forgotten(db, clock):
    with write_transaction(db):
        settings.put(db, "alpha", "size", 3)
    with pytest.raises(RuntimeError):
        with write_transaction(db):
            settings.put(db, "alpha", "size", 9)
            assert settings.get_all(db, "alpha") == {"size": 9}
            raise RuntimeError("a later step failed")
    assert settings.get_all(db, "alpha") == {"size": 3}


def test_callers_get_copies(db, clock):
    with write_transaction(db):
        settings.put(db, "alpha", "lines", ["hello"])
    values = settings.get_all(db, "alpha")
    values["lines"].append("changed")
    values["extra"] = 1
    assert settings.get_all(db, "alpha") == {"lines": ["hello"]}


def test_shop_settings_follow_an_owner_change(app, client, db):
    from siyu.core.shop_settings import update_shop_settings
    from siyu.storefront import context

    with app.test_request_context("/"):
        assert context.shop_settings()["shop_name"] == "Siyu Shop"
    update_shop_settings(db, {"shop_name": "Tea Corner", "currency": "CNY", "timezone": "Asia/Shanghai",
                              "default_locale": "en"})
    assert settings.get_all(db, "core")["shop_name"] == "Tea Corner"
    with app.test_request_context("/"):
        context.invalidate_settings()
        assert context.shop_settings()["shop_name"] == "Tea Corner"
