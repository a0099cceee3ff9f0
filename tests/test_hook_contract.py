"""The hook contract: what hooks receive, how plugins name and call each other's hooks."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import click
import pluggy
import pytest

from siyu.core import hookimpl, hookspec
from siyu.core.errors import PluginError, ValidationError
from siyu.core.hookdoc import hook_names
from siyu.core.hooks import NOT_AVAILABLE, call_service
from siyu.core.plugins import make_plugin_manager
from siyu.storefront import hookspecs as web_hookspecs

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = sorted(p for p in (ROOT / "plugins").glob("*/siyu_*") if p.is_dir() and not p.name.endswith(".egg-info"))


def plugin_sources():
    for package in PLUGINS:
        for path in sorted(package.rglob("*.py")):
            yield package.parent.name, path


def test_hooks_a_plugin_adds_carry_its_name():
    offenders = []
    for package in PLUGINS:
        specs = package / "hookspecs.py"
        if not specs.exists():
            continue
        for node in ast.parse(specs.read_text(encoding="utf-8")).body:
            marked = isinstance(node, ast.FunctionDef) and any(
                "hookspec" in ast.unparse(d) for d in node.decorator_list)
            if marked and not node.name.startswith(f"{package.parent.name}_"):
                offenders.append(f"{package.parent.name}: {node.name}")
    assert offenders == []


def test_plugins_call_each_other_through_call_service_only():
    guard = re.compile(r"(hasattr|getattr)\([^)]*\.hook\b")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for _plugin, path in plugin_sources()
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if guard.search(line)]
    assert offenders == [], "use siyu.plugin.call_service and NOT_AVAILABLE"


def test_the_session_does_not_carry_the_kernel(kernel):
    with kernel.db.Session() as session:
        assert "kernel" not in session.info


class Specs:
    @hookspec(firstresult=True)
    def points_spend(self, member_id: int, points: int):
        """A service another plugin offers."""


class ShopSpecs:
    @hookspec(firstresult=True)
    def shop_name_of(self, kernel, member_id: int):
        """A service that needs the shop."""


class ShopName:
    @hookimpl
    def shop_name_of(self, kernel, member_id):
        return f"{kernel.name}:{member_id}"


class Points:
    @hookimpl
    def points_spend(self, member_id, points):
        if points < 0:
            raise ValidationError("No negative points.")
        if points > 100:
            raise RuntimeError("ledger exploded")
        return 7


def kernel_with(*plugins):
    pm = make_plugin_manager(extra_plugins=plugins)
    pm.add_hookspecs(Specs)
    return SimpleNamespace(pm=pm)


def test_call_service_answers_not_available_without_the_plugin():
    kernel = kernel_with()
    assert call_service(kernel, "points_spend", member_id=1, points=5) is NOT_AVAILABLE
    assert call_service(kernel, "no_such_service", member_id=1) is NOT_AVAILABLE
    assert not NOT_AVAILABLE and repr(NOT_AVAILABLE) == "NOT_AVAILABLE"


def test_call_service_answers_and_fails_closed_naming_the_plugin():
    kernel = kernel_with(Points())
    assert call_service(kernel, "points_spend", member_id=1, points=5) == 7
    with pytest.raises(ValidationError):
        call_service(kernel, "points_spend", member_id=1, points=-1)
    with pytest.raises(PluginError, match="Points"):
        call_service(kernel, "points_spend", member_id=1, points=1000)


def test_call_service_hands_the_kernel_to_a_service_that_takes_it():
    kernel = kernel_with(ShopName())
    kernel.pm.add_hookspecs(ShopSpecs)
    kernel.name = "tea"
    assert call_service(kernel, "shop_name_of", member_id=3) == "tea:3"


class HiddenPaid:
    @hookimpl(optionalhook=True)
    def on_order_paid(self, order):
        pass


class HiddenSlot:
    @hookimpl(optionalhook=True)
    def storefront_slot(self, slot):
        pass


class OtherPluginsHook:
    @hookimpl(optionalhook=True)  # curation's hook: absent unless curation is enabled
    def curation_owner_label(self, owner_key):
        return "someone"


def test_an_optional_implementation_of_a_core_hook_is_refused_at_start_up():
    with pytest.raises(pluggy.PluginValidationError, match="on_order_paid is one of Siyu's hooks"):
        make_plugin_manager(extra_plugins=[HiddenPaid()])
    with pytest.raises(pluggy.PluginValidationError, match="storefront_slot"):
        make_plugin_manager(extra_plugins=[HiddenSlot()], hookspecs=[web_hookspecs])
    pm = make_plugin_manager(extra_plugins=[OtherPluginsHook()], hookspecs=[web_hookspecs])
    with pytest.raises(pluggy.PluginValidationError, match="on_order_paid"):
        pm.register(HiddenPaid(), name="late")  # also when registered later


def test_no_bundled_plugin_marks_a_core_hook_optional():
    own = set(hook_names())
    sources = [path for _plugin, path in plugin_sources()] + sorted((ROOT / "docs" / "examples").rglob("*.py"))
    offenders = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                keywords = {k.arg: k.value for k in getattr(decorator, "keywords", [])}
                optional = isinstance(keywords.get("optionalhook"), ast.Constant) and keywords["optionalhook"].value
                specname = keywords.get("specname")
                hook = specname.value if isinstance(specname, ast.Constant) else node.name
                if optional and hook in own:
                    offenders.append(f"{path.relative_to(ROOT)}: {hook}")
    assert offenders == []


class Hello:
    @hookimpl
    def register_commands(self, cli):
        @cli.command("hello")
        def hello():
            click.echo("hello from the plugin")


def make_app(tmp_path, name, plugins=()):
    from siyu.storefront import create_app

    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / name}.db"}, plugins=plugins,
                      instance_path=str(tmp_path / name))


def test_each_app_has_its_own_command_group(tmp_path):
    first, second = make_app(tmp_path, "first", [Hello()]), make_app(tmp_path, "second", [Hello()])
    plain = make_app(tmp_path, "plain")
    for app in (first, second):  # the same plugin in two apps: no guard needed
        assert app.test_cli_runner().invoke(args=["siyu", "hello"]).output == "hello from the plugin\n"
    listed = plain.test_cli_runner().invoke(args=["siyu", "--help"]).output
    assert "hello" not in listed and "create-owner" in listed


def test_registries_live_on_the_kernel_and_follow_its_plugins(kernel, register_plugin):
    from siyu.core import jobs
    from siyu.core.channels import Channel, channels

    class Extra:
        @hookimpl
        def register_channels(self, register):
            register(Channel(name="extra", label="Extra"))

    assert channels(kernel) is channels(kernel) and "extra" not in channels(kernel)
    queue = jobs.queue(kernel)
    register_plugin(Extra(), name="extra-channel")
    assert channels(kernel).plugin_of("extra") == "extra-channel"
    assert channels(kernel).plugin_of("web") == "siyu.core.default_plugins.conversations"
    assert jobs.queue(kernel) is queue  # lasting: its tasks may be running
