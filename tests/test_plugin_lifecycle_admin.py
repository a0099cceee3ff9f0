"""The back office's side of a plugin's life: enabling waits for its migrations, and a plugin
the owner disabled can be enabled there again (the configuration still wins)."""
from __future__ import annotations

import pytest
from backoffice_helpers import admin_csrf, make_staff, staff_login
from test_plugin_lifecycle import Shop, head_of_core, install

from siyu.core.plugin_admin import stored_choice
from siyu.storefront.admin import plugins as page


@pytest.fixture
def shop(app, tmp_path, monkeypatch, db):
    made = Shop(app.config["DATABASE_URL"], tmp_path, monkeypatch)
    # The page lists what is installed through its own import of the function.
    monkeypatch.setattr(page, "installed_entry_points", lambda: made.installed_entry_points())
    made.owner = make_staff(db, "owner")
    yield made
    for started in made.apps:
        started.extensions["siyu"].db.dispose()


@pytest.fixture
def core_head(kernel):
    return head_of_core(kernel)


def owner(shop, app):
    return staff_login(app.test_client(), shop.owner)


def post_state(client, name, enabled, language="en"):
    token = admin_csrf(client, "/admin/plugins")
    return client.post(f"/admin/plugins/{name}/state", data={"csrf_token": token, "enabled": "1" if enabled else "0"},
                       headers={"Accept-Language": language}, follow_redirects=True).get_data(as_text=True)


def choice(app):
    with app.extensions["siyu"].db.Session() as session:
        return stored_choice(session)


def test_enabling_waits_for_the_plugins_migrations(shop, core_head):
    install(shop, "notes", core_head)
    app = shop.start()
    client = owner(shop, app)
    html = post_state(client, "notes", True)
    assert "migrations have not been run" in html and "flask siyu db upgrade --plugin notes" in html
    html = post_state(client, "notes", True, "zh-CN")
    assert "数据库迁移尚未执行" in html and "flask siyu db upgrade --plugin notes" in html
    assert choice(app) == ([], [])
    assert shop.cli(app, "db", "upgrade", "--plugin", "notes").exit_code == 0
    html = post_state(client, "notes", True)
    assert "workers restart" in html and choice(app) == (["notes"], [])
    restarted = shop.start()
    assert restarted.extensions["siyu"].pm.get_plugin("notes") is not None


def test_a_plugin_the_owner_disabled_can_be_enabled_again(shop, core_head):
    install(shop, "notes", core_head)
    app = shop.start(["notes"])
    assert shop.cli(app, "db", "upgrade").exit_code == 0
    post_state(owner(shop, app), "notes", False)
    restarted = shop.start(["notes"])  # the owner's "off" wins over the configuration's "on"
    assert restarted.extensions["siyu"].pm.get_plugin("notes") is None
    client = owner(shop, restarted)
    listing = client.get("/admin/plugins", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "disabled by configuration" not in listing
    html = post_state(client, "notes", True)
    assert "workers restart" in html and choice(restarted) == (["notes"], [])
    assert shop.start(["notes"]).extensions["siyu"].pm.get_plugin("notes") is not None


def test_the_configuration_still_wins_after_a_restart(shop, core_head):
    install(shop, "notes", core_head)
    app = shop.start(["notes"], PLUGINS_DISABLED=["notes"])
    shop.cli(app, "db", "upgrade", "--plugin", "notes")
    post_state(owner(shop, app), "notes", False)
    restarted = shop.start(["notes"], PLUGINS_DISABLED=["notes"])
    html = post_state(owner(shop, restarted), "notes", True)
    assert "is disabled in the shop" in html and choice(restarted) == ([], ["notes"])


def test_a_plugin_that_cannot_be_loaded_is_not_enabled(shop, core_head):
    install(shop, "broken", core_head).broken = "No module named 'half_rewritten'"
    app = shop.start()
    html = post_state(owner(shop, app), "broken", True)
    assert "flask siyu db upgrade --plugin broken" in html and choice(app) == ([], [])
