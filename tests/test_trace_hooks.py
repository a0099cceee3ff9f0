"""SIYU_TRACE_HOOKS=1: every hook call is logged with the plugins called and the time spent."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time

from markupsafe import Markup

from siyu.core import hookimpl
from siyu.core.plugins import call_isolated, make_plugin_manager
from siyu.storefront import hookspecs as web_hookspecs

LINE = re.compile(r"hook (\w+) \[([^\]]*)\] (\d+\.\d\d) ms( FAILED)?")


def traced(caplog) -> list[tuple[str, str, float, bool]]:
    return [(m[1], m[2], float(m[3]), bool(m[4])) for r in caplog.records if r.name == "siyu.hooks"
            if (m := LINE.search(r.getMessage()))]


def test_environment_variable_traces_a_storefront_request(monkeypatch, request, caplog):
    monkeypatch.setenv("SIYU_TRACE_HOOKS", "1")
    app = request.getfixturevalue("app")  # built by create_app() after the variable is set
    with caplog.at_level(logging.INFO, logger="siyu.hooks"):
        assert app.test_client().get("/").status_code == 200
    calls = {name: plugins for name, plugins, _, _ in traced(caplog)}
    assert "siyu.core.default_plugins.catalog" in calls["catalog_products"]
    assert "storefront_slot" in calls  # display hooks run outside pluggy's call, traced too


def test_trace_is_off_by_default(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="siyu.hooks"):
        client.get("/")
    assert traced(caplog) == []


class SlowSorts:
    @hookimpl
    def catalog_sorts(self):
        time.sleep(0.05)
        return ["position"]


class BrokenSlot:
    @hookimpl
    def storefront_slot(self, slot):
        raise RuntimeError("widget exploded")


class GoodSlot:
    @hookimpl
    def storefront_slot(self, slot, context):
        return Markup("<p>ok</p>")


def test_plugins_are_named_in_call_order_and_failures_marked(caplog):
    pm = make_plugin_manager(extra_plugins=[BrokenSlot(), GoodSlot(), SlowSorts()], trace=True,
                             hookspecs=[web_hookspecs])
    names = [name for name, _ in pm.list_name_plugin() if "Slot" in name or "Slow" in name]
    with caplog.at_level(logging.INFO, logger="siyu.hooks"):
        call_isolated(pm, "storefront_slot", slot="home_top", context={})
        pm.hook.catalog_sorts()
    slot, sorts = traced(caplog)
    assert slot[0] == "storefront_slot" and slot[3] is True
    assert [n for n in slot[1].split(", ") if n in names] == [n for n in names if "Slot" in n][::-1]
    assert sorts[0] == "catalog_sorts" and sorts[2] >= 50 and sorts[3] is False


def test_concurrent_calls_keep_their_own_timings(caplog):
    pm = make_plugin_manager(extra_plugins=[SlowSorts()], trace=True)
    barrier = threading.Barrier(2)

    def slow():
        barrier.wait()
        pm.hook.catalog_sorts()

    with caplog.at_level(logging.INFO, logger="siyu.hooks"):
        thread = threading.Thread(target=slow)
        thread.start()
        barrier.wait()
        time.sleep(0.01)  # the slow call has started; this fast one must not take its start time
        pm.hook.register_jobs(register=lambda *args, **kwargs: None)
        thread.join()
    timings = {name: ms for name, _, ms, _ in traced(caplog)}
    assert timings["register_jobs"] < 40 <= timings["catalog_sorts"]


def test_flask_command_prints_the_trace(tmp_path):
    env = {**os.environ, "SIYU_TRACE_HOOKS": "1", "SIYU_INSTANCE_PATH": str(tmp_path)}
    flask = [sys.executable, "-m", "flask", "--app", "siyu.storefront", "siyu", "plugins"]
    result = subprocess.run(flask, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = r"siyu\.hooks hook register_payment_providers \[siyu\.core\.default_plugins\.payments\] \d+\.\d\d ms"
    assert re.search(expected, result.stderr)
