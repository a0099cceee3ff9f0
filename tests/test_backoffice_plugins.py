"""The plugins page: state, enable/disable applied at the next start, generated settings forms."""
from types import SimpleNamespace

import pytest
from backoffice_helpers import admin_csrf, make_staff, staff_login
from conftest import fresh
from marshmallow import Schema, fields, validate

from siyu.core import hookimpl
from siyu.core import settings as core_settings
from siyu.core.db import write_transaction
from siyu.core.plugin_admin import stored_choice
from siyu.storefront import create_app

EN = {"Accept-Language": "en"}


class GiftSettings(Schema):
    threshold = fields.Integer(load_default=10000, validate=validate.Range(0, 10**7),
                               metadata={"label": "Spend threshold", "help": "In fen"})
    wrap = fields.Boolean(load_default=False, metadata={"label": "Gift wrap"})
    style = fields.String(load_default="red", validate=validate.OneOf(["red", "gold"], labels=["Red", "Gold"]),
                          metadata={"label": "Paper"})
    note = fields.String(load_default="", validate=validate.Length(max=50), metadata={"label": "Note"})


class GiftPlugin:
    __name__ = "gift"

    @hookimpl
    def register_settings_schemas(self, register):
        register("gift", GiftSettings)


@pytest.fixture
def siyu_plugins():
    return [GiftPlugin()]


@pytest.fixture
def owner_client(client, db):
    return staff_login(client, make_staff(db, "owner"))


def test_settings_form_is_generated_from_the_schema(owner_client, db):
    page = owner_client.get("/admin/plugins/gift/settings", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="threshold"' in html and 'value="10000"' in html and "In fen" in html
    assert 'type="checkbox" name="wrap"' in html and '<option value="gold"' in html
    token = admin_csrf(owner_client, "/admin/plugins/gift/settings")
    bad = owner_client.post("/admin/plugins/gift/settings",
                            data={"csrf_token": token, "threshold": "-5", "style": "gold", "note": "x"})
    assert bad.status_code == 422 and 'aria-invalid=true' in bad.get_data(as_text=True)
    assert core_settings.get_all(fresh(db), "gift") == {}  # nothing half-written
    ok = owner_client.post("/admin/plugins/gift/settings",
                           data={"csrf_token": token, "threshold": "2500", "wrap": "1", "style": "gold", "note": "hi"})
    assert ok.status_code == 302
    assert core_settings.get_all(fresh(db), "gift") == {"threshold": 2500, "wrap": True, "style": "gold", "note": "hi"}
    owner_client.post("/admin/plugins/gift/settings",
                      data={"csrf_token": token, "threshold": "2500", "style": "red", "note": ""})
    assert core_settings.get_all(fresh(db), "gift")["wrap"] is False
    assert owner_client.get("/admin/plugins/nothing/settings").status_code == 404


def test_enable_disable_is_stored_and_applied_at_the_next_start(owner_client, db, app, monkeypatch, tmp_path):
    from siyu.storefront.admin import plugins as page

    monkeypatch.setattr(page, "installed_entry_points", lambda: [SimpleNamespace(name="fake")])
    html = owner_client.get("/admin/plugins", headers=EN).get_data(as_text=True)
    assert "workers restart" in html
    token = admin_csrf(owner_client, "/admin/plugins")
    owner_client.post("/admin/plugins/fake/state", data={"csrf_token": token, "enabled": "1"})
    assert stored_choice(fresh(db)) == (["fake"], [])
    owner_client.post("/admin/plugins/nothere/state", data={"csrf_token": token, "enabled": "1"})
    assert stored_choice(fresh(db)) == (["fake"], [])
    restarted = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "x", "TESTING": True},
                           instance_path=str(tmp_path / "other"))
    assert "fake" in restarted.config["PLUGINS"]
    restarted.extensions["siyu"].db.dispose()
    owner_client.post("/admin/plugins/fake/state", data={"csrf_token": token, "enabled": "0"})
    assert stored_choice(fresh(db)) == ([], ["fake"])
    restarted = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "x", "TESTING": True,
                            "PLUGINS": ["fake"]}, instance_path=str(tmp_path / "other"))
    assert "fake" in restarted.config["PLUGINS_DISABLED"]  # the owner's "off" beats the config's "on"
    restarted.extensions["siyu"].db.dispose()


def test_configuration_still_wins_for_disabled_plugins(db, monkeypatch, app, owner_client):
    from siyu.storefront.admin import plugins as page

    monkeypatch.setattr(page, "installed_entry_points", lambda: [SimpleNamespace(name="fake")])
    app.extensions["siyu"].config["PLUGINS_DISABLED"] = ["fake"]
    token = admin_csrf(owner_client, "/admin/plugins")
    page_html = owner_client.post("/admin/plugins/fake/state", data={"csrf_token": token, "enabled": "1"},
                                  headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "is disabled in the shop" in page_html
    assert stored_choice(fresh(db)) == ([], [])


def test_unreachable_database_does_not_stop_start_up(tmp_path):
    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "SECRET_KEY": "x",
                      "PLUGINS": ["x"]}, instance_path=str(tmp_path))
    assert app.config["PLUGINS"] == ["x"]


def test_stored_choice_round_trip(db):
    with write_transaction(db):
        core_settings.put(db, "core", "plugins_enabled", ["a"])
    assert stored_choice(db) == (["a"], [])
