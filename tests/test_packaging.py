"""The built wheels ship every template, static file, catalog and migration the source has.

A shop installed with ``pip install siyu siyu-<plugin>`` (no ``-e``) reads these files from
site-packages; a glob in ``setup.cfg`` that misses a folder gives 500s on the pages that use
it. Each distribution is built from a copy of its source (no build/ or egg-info left in the
tree) and its wheel compared with the files on disk.
"""
from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_SUFFIXES = {".html", ".css", ".js", ".svg", ".png", ".ico", ".po", ".mo", ".tmpl", ".mako", ".json"}

pytestmark = pytest.mark.skipif(
    os.environ.get("SIYU_TEST_DATABASE", "").startswith("postgres"),
    reason="packaging does not depend on the database: checked in the SQLite run")


def _distributions() -> list[tuple[str, Path, dict[str, Path]]]:
    """(name, source dir, {import path in the wheel: source folder})."""
    dists = [("siyu", ROOT, {"siyu/core": ROOT / "core", "siyu/storefront": ROOT / "storefront"})]
    for setup in sorted(ROOT.glob("plugins/*/setup.cfg")):
        src = setup.parent
        packages = {p.name: p for p in src.glob("siyu_*") if p.is_dir() and not p.name.endswith(".egg-info")}
        dists.append((src.name, src, packages))
    return dists


def _expected(packages: dict[str, Path]) -> set[str]:
    files = set()
    for dest, folder in packages.items():
        for path in folder.rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(folder)
            is_migration = "migrations" in relative.parts and path.suffix == ".py"
            if path.suffix in DATA_SUFFIXES or is_migration:
                files.add(f"{dest}/{relative.as_posix()}")
    return files


def _build_wheel(src: Path, tmp_path: Path) -> set[str]:
    copy = tmp_path / "src"
    top_level = {".venv", ".git", "plugins", "instance", "build", "dist", "test-artifacts", "bench", "tests"}

    def ignore(folder, names):
        skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        return skip | (top_level & set(names) if Path(folder) == src else set())

    shutil.copytree(src, copy, ignore=ignore)
    out = tmp_path / "wheels"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(out), str(copy)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize("name,src,packages", _distributions(), ids=lambda v: v if isinstance(v, str) else "")
def test_wheel_ships_every_data_file(name, src, packages, tmp_path):
    expected = _expected(packages)
    assert expected, f"{name}: no data files found to check"
    missing = sorted(expected - _build_wheel(src, tmp_path))
    assert missing == [], f"{name}'s wheel lacks {len(missing)} files: {missing[:20]}"


def _requirements(setup_cfg: Path) -> tuple[set[str], dict[str, set[str]]]:
    """(install_requires, {extra: requirements}) as lower-case project names."""
    config = configparser.ConfigParser()
    config.read(setup_cfg)

    def names(text: str) -> set[str]:
        return {re.split(r"[\[<>=!~; ]", line.strip(), maxsplit=1)[0].lower()
                for line in text.splitlines() if line.strip() and not line.strip().startswith("#")}

    extras = config["options.extras_require"] if config.has_section("options.extras_require") else {}
    return names(config["options"].get("install_requires", "")), {k: names(v) for k, v in extras.items()}


def _imports(packages: dict[str, Path], module: str) -> bool:
    pattern = re.compile(rf"^\s*(import|from) {module}\b", re.MULTILINE)
    return any(pattern.search(path.read_text(encoding="utf-8"))
               for folder in packages.values() for path in folder.rglob("*.py"))


@pytest.mark.parametrize("name,src,packages", _distributions(), ids=lambda v: v if isinstance(v, str) else "")
def test_qr_codes_are_required_by_the_distributions_that_draw_them(name, src, packages):
    """segno is required by each plugin that imports it, and not by a core that does not."""
    requires, _ = _requirements(src / "setup.cfg")
    assert ("segno" in requires) == _imports(packages, "segno"), f"{name}: segno in install_requires"


def test_localstripe_is_for_development_only():
    """A shop installed for real payments gets no fake Stripe server; the demo and tests do."""
    requires, extras = _requirements(ROOT / "setup.cfg")
    assert "localstripe" not in requires
    assert "localstripe" in extras["dev"] and "localstripe" in extras["test"]
