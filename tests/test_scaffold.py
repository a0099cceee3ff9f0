"""``flask siyu new-plugin``: a generated plugin installs and passes its own tests at once,
package checks included (catalogs, babel.cfg), and its Makefile works wherever it lives."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from types import SimpleNamespace

import pytest
from plugin_venv import install, overlay_venv, run_tests

from siyu.storefront.scaffold import ScaffoldError, generate, validate_name


@pytest.mark.parametrize("name, reason", [
    ("Gift", "lowercase"), ("gift-note", "lowercase"), ("1gift", "lowercase"), ("class", "lowercase"),
    ("gift__note", "double underscores"), ("gift_", "trailing"), ("core", "reserved"),
    ("a" * 25, "at most"), ("gift_note", "already installed"), ("pytest", "already importable"),
])
def test_bad_names_are_refused(name, reason, monkeypatch):
    installed = [SimpleNamespace(name="gift_note")]
    monkeypatch.setattr("siyu.storefront.scaffold.installed_entry_points", lambda: installed)
    monkeypatch.setattr("siyu.storefront.scaffold.find_spec",
                        lambda module: object() if module == "siyu_pytest" else None)
    with pytest.raises(ScaffoldError, match=reason):
        validate_name(name)


def test_command_writes_a_complete_distribution(runner, tmp_path):
    result = runner.invoke(args=["siyu", "new-plugin", "gift_note", "--dest", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "gift_note"
    expected = ["setup.cfg", "pyproject.toml", "README.md", "siyu_gift_note/plugin.py", "siyu_gift_note/models.py",
                "siyu_gift_note/settings.py", "siyu_gift_note/views.py",
                "siyu_gift_note/templates/gift_note/admin.html", "siyu_gift_note/templates/gift_note/page.html",
                "siyu_gift_note/migrations/versions/gift_note_0001_initial.py",
                "tests/conftest.py", "tests/test_gift_note.py", "babel.cfg", "Makefile"]
    expected += [f"siyu_gift_note/translations/{locale}/LC_MESSAGES/messages.{ext}"
                 for locale in ("zh_Hans_CN", "en") for ext in ("po", "mo")]
    assert [path for path in expected if not (root / path).is_file()] == []
    setup = (root / "setup.cfg").read_text()
    assert "siyu =\n    gift_note = siyu_gift_note.plugin" in setup
    migration = (root / "siyu_gift_note/migrations/versions/gift_note_0001_initial.py").read_text()
    assert "branch_labels = ('gift_note',)" in migration and "depends_on = 'core_0001'" in migration
    assert "'gift_note_records'" in migration
    assert "${" not in "".join(p.read_text() for p in root.rglob("*") if p.is_file() and p.suffix != ".mo")
    assert "../" not in (root / "Makefile").read_text(), "the Makefile assumes no checkout around it"
    assert "PluginPackageChecks" in (root / "tests/test_gift_note.py").read_text()

    again = runner.invoke(args=["siyu", "new-plugin", "gift_note", "--dest", str(tmp_path)])
    assert again.exit_code != 0 and "already exists" in again.output


def test_new_plugin_writes_only_into_dest(tmp_path):
    here, dest = tmp_path / "here", tmp_path / "dest"
    here.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SIYU_INSTANCE_PATH"}
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run([str(flask), "--app", "siyu.storefront", "siyu", "new-plugin", "gift_note",
                             "--dest", str(dest)], cwd=here, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (dest / "gift_note" / "setup.cfg").is_file()
    assert list(here.iterdir()) == []


def test_nothing_is_written_for_a_bad_name(tmp_path):
    with pytest.raises(ScaffoldError):
        generate("Bad", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_generated_plugin_installs_and_passes_its_own_tests(tmp_path):
    plugin = generate("scaffold_probe", tmp_path / "src")
    python = overlay_venv(tmp_path / "venv")
    installed = install(python, plugin)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    entry_points = subprocess.check_output([str(python), "-c", (
        "from importlib.metadata import entry_points; "
        "print(sorted(ep.value for ep in entry_points(group='siyu')))")], text=True)
    assert "siyu_scaffold_probe.plugin" in entry_points

    result = run_tests(python, plugin)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert "PluginPackageChecks" in (plugin / "tests" / "test_scaffold_probe.py").read_text()

    # The Makefile, outside any checkout, with the venv's Python: extraction finds exactly the
    # strings the catalogs hold, so they stay complete and compiled.
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    made = subprocess.run(["make", "i18n", f"PYTHON={python}"], cwd=plugin, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "10 of 10 messages (100%) translated" in made.stdout + made.stderr
    again = run_tests(python, plugin)
    assert again.returncode == 0, again.stdout[-4000:]
    # The project's environment, shared with other test sessions, never saw the plugin.
    assert find_spec("siyu_scaffold_probe") is None
