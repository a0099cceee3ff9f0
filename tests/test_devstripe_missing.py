"""localstripe is a development dependency (siyu[dev]): without it the demo says what to install.

A shop installed with ``pip install siyu`` has no localstripe; ``flask siyu demo`` without Stripe
keys must end with a message naming the extra, not an ImportError from a child process.
"""
from __future__ import annotations

import sys

import pytest

from siyu.storefront import devstripe


@pytest.fixture
def no_localstripe(monkeypatch):
    monkeypatch.setitem(sys.modules, "localstripe", None)  # import and find_spec see it missing
    monkeypatch.delenv("SIYU_STRIPE_SECRET_KEY", raising=False)


def test_demo_without_localstripe_says_what_to_install(runner, no_localstripe):
    result = runner.invoke(args=["siyu", "demo", "--port", "5999", "--stripe-port", "8999"])
    assert result.exit_code == 1
    assert "localstripe" in result.output and "siyu[dev]" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_start_refuses_before_spawning(no_localstripe, monkeypatch):
    monkeypatch.setattr(devstripe.subprocess, "Popen", lambda *a, **k: pytest.fail("spawned"))
    with pytest.raises(devstripe.LocalstripeMissing, match=r"siyu\[dev\]"):
        devstripe.start()
