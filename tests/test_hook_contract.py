"""The hook contract: what hooks receive, how plugins name and call each other's hooks."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from siyu.core import hookimpl, hookspec
from siyu.core.errors import PluginError, ValidationError
from siyu.core.hooks import NOT_AVAILABLE, call_service
from siyu.core.plugins import make_plugin_manager

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
