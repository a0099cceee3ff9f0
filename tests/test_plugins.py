"""The plugin kernel: default plugins, enabled state, hook docs, isolation, tracing."""
import ast
import logging
from pathlib import Path

import pluggy
import pytest
from conftest import csrf, fresh
from markupsafe import Markup
from sqlalchemy import select

from siyu.core import hookimpl
from siyu.core.hookdoc import hook_names, render
from siyu.core.models import Touch
from siyu.core.plugins import DEFAULT_PLUGINS, _is_enabled, call_isolated, make_plugin_manager
from siyu.storefront import hookspecs as web_hookspecs

ROOT = Path(__file__).resolve().parent.parent


def test_every_hook_has_a_docstring_and_docs_are_current():
    undocumented = [n.name for path in ("core/hookspecs.py", "core/hookspecs_people.py", "storefront/hookspecs.py")
                    for n in ast.parse((ROOT / path).read_text()).body
                    if isinstance(n, ast.FunctionDef) and not ast.get_docstring(n)]
    assert undocumented == []
    docs = (ROOT / "docs" / "hooks.md").read_text()
    # Examples from this checkout, also when siyu is installed from its wheel (test-alone).
    assert docs == render(ROOT), "docs/hooks.md is stale: run `make hooks-doc`"
    for name in hook_names():
        assert f"### `{name}`" in docs


def test_default_plugins_are_registered_and_replaceable():
    pm = make_plugin_manager()
    for name in DEFAULT_PLUGINS:
        assert pm.get_plugin(name) is not None

    class Replacement:
        @hookimpl
        def catalog_sorts(self):
            return ["position"]

    pm = make_plugin_manager(extra_plugins=[Replacement()])
    assert pm.hook.catalog_sorts() == ["position"]


def test_installed_is_not_enabled():
    assert not _is_enabled("curation", (), ())
    assert _is_enabled("curation", ["curation"], ())
    assert _is_enabled("curation", "*", ())
    assert not _is_enabled("curation", "*", ["curation"])


def test_unknown_hook_is_caught_at_start_up():
    class Typo:
        @hookimpl
        def on_order_payed(self, order):
            pass

    with pytest.raises(pluggy.PluginValidationError):
        make_plugin_manager(extra_plugins=[Typo()], hookspecs=[web_hookspecs])


def test_the_core_alone_has_no_web_hooks_and_still_loads_plugins_that_implement_them():
    from siyu.core import hookspecs as core_hookspecs

    assert not {"storefront_slot", "register_blueprints", "register_admin_menu"} & set(vars(core_hookspecs))
    pm = make_plugin_manager(extra_plugins=[GoodSlot(), Replacement()])  # no storefront: a job runner
    assert pm.hook.catalog_sorts() == ["newest"]
    assert not pm.hook.storefront_slot.has_spec()
    full = make_plugin_manager(extra_plugins=[GoodSlot()], hookspecs=[web_hookspecs])
    assert full.hook.storefront_slot.has_spec()


def test_plugins_command_lists_defaults_with_hooks(runner):
    result = runner.invoke(args=["siyu", "plugins"])
    assert result.exit_code == 0
    assert "siyu.core.default_plugins.catalog" in result.output
    assert "catalog_products" in result.output


def test_trace_logs_each_hook_call(caplog):
    pm = make_plugin_manager(trace=True)
    with caplog.at_level(logging.INFO, logger="siyu.hooks"):
        pm.hook.catalog_sorts()
    assert any("hook catalog_sorts [siyu.core.default_plugins.catalog]" in r.message for r in caplog.records)


class Replacement:
    @hookimpl
    def catalog_sorts(self):
        return ["newest"]


class BrokenSlot:
    @hookimpl
    def storefront_slot(self, slot):
        raise RuntimeError("widget exploded")


class GoodSlot:
    @hookimpl
    def storefront_slot(self, slot, context):
        if slot == "home_top":
            return Markup("<p class='promo'>Spring tea is here</p>")
        if slot == "nav":
            return "<b>not escaped by the plugin</b>"


def test_failing_display_hook_is_skipped_and_page_renders(client, register_plugin, caplog):
    register_plugin(BrokenSlot(), name="broken-slot")
    register_plugin(GoodSlot(), name="good-slot")
    with caplog.at_level(logging.ERROR, logger="siyu.plugins"):
        response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<p class='promo'>Spring tea is here</p>" in html
    assert "&lt;b&gt;not escaped by the plugin&lt;/b&gt;" in html
    assert any("broken-slot" in r.getMessage() for r in caplog.records)


def test_call_isolated_keeps_order_and_skips_failures():
    pm = make_plugin_manager(extra_plugins=[BrokenSlot(), GoodSlot()], hookspecs=[web_hookspecs])
    assert call_isolated(pm, "storefront_slot", slot="home_top", context={}) == [
        Markup("<p class='promo'>Spring tea is here</p>")]


class RefPlugin:
    @hookimpl
    def attribution_from_request(self, args):
        if args.get("ref") == "GOOD":
            return [("ref", "GOOD")]


def test_attribution_is_recorded_and_bound_at_signup(client, db, register_plugin, kernel):
    register_plugin(RefPlugin())
    client.get("/?ref=BAD")
    assert db.scalars(select(Touch)).all() == []
    response = client.get("/?ref=GOOD")
    assert "siyu_vid=" in response.headers.get("Set-Cookie", "")
    token = csrf(client, "/account/signup")
    client.post("/account/signup", data={"email": "new@example.com", "password": "long-enough-pw",
                                         "csrf_token": token})
    fresh(db)
    touches = db.scalars(select(Touch)).all()
    assert [(t.source, t.value) for t in touches] == [("ref", "GOOD")]
    assert touches[0].member_id is not None
