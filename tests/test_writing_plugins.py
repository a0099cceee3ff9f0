"""docs/writing-plugins.md: the tutorial's code is the example plugin's, and that plugin runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from plugin_venv import install, overlay_venv, run_tests

from siyu.storefront.scaffold import generate

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "writing-plugins.md"
EXAMPLE = ROOT / "docs" / "examples" / "gift_message"
BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)


def test_every_code_block_is_the_example_plugins_code():
    blocks = BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    for path, code in blocks:
        assert code in (EXAMPLE / path).read_text(encoding="utf-8"), f"the tutorial's {path} differs"


def test_the_example_starts_from_the_scaffold(tmp_path):
    generated = generate("gift_message", tmp_path)
    for kept in ("setup.cfg", "pyproject.toml", "siyu_gift_message/settings.py"):
        ours, theirs = (EXAMPLE / kept).read_text(), (generated / kept).read_text()
        if kept.endswith(".py"):  # the tutorial changes the schema's fields, not the rest
            ours, theirs = ours.split("class ")[0], theirs.split("class ")[0]
            theirs = theirs.replace("from siyu.plugin import lazy_gettext as _l, settings as core_settings\n",
                                    "from siyu.plugin import lazy_gettext as _l, settings as core_settings\n"
                                    "from siyu_gift_message.models import MAX_LENGTH\n")
        assert ours == theirs, kept


@pytest.mark.slow
def test_the_tutorial_plugin_installs_and_passes_its_tests(tmp_path):
    python = overlay_venv(tmp_path / "venv")
    installed = install(python, EXAMPLE)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    result = run_tests(python, EXAMPLE)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed" not in result.stdout
