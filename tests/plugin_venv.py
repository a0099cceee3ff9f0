"""Install a plugin distribution into a throwaway virtualenv and run its own tests there.

Why not the project's ``.venv``: other test sessions use it at the same time, and an extra
entry point there would change what every shop in them sees. Why not a fully fresh venv:
that downloads the core's dependencies (``make test-alone`` does that, in CI). So the
throwaway venv *overlays* the running interpreter's site-packages (a ``.pth`` that calls
``site.addsitedir``, which also honours the core's editable install), while ``pip install``
writes the plugin and its entry point only into the throwaway venv's own site-packages.

``hide`` leaves distributions of the project's venv out of the overlay (the plugin a test
installs itself, say, when a finished tutorial plugin was left installed there): the overlay is
then a folder of links to every other entry of site-packages.
"""
from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path


def _hidden(entry: str, hide: tuple[str, ...]) -> bool:
    name = entry.lower().replace("-", "_")
    return any(package in name for package in hide)


def overlay_venv(root: Path, hide: tuple[str, ...] = ()) -> Path:
    """Create a venv at ``root`` that sees this interpreter's packages, except those whose
    entries in site-packages name one of ``hide`` (``"siyu_gift_message"``); return its python.
    Its ``bin`` has ``pip`` and ``flask`` commands too, run by that python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip()
    folders = [Path(path) for path in site.getsitepackages()]
    if hide:
        linked = root / "overlay"
        for number, folder in enumerate(folders):
            (linked / str(number)).mkdir(parents=True)
            for entry in folder.iterdir() if folder.is_dir() else ():
                if not _hidden(entry.name, hide):
                    (linked / str(number) / entry.name).symlink_to(entry)
        folders = [linked / str(number) for number in range(len(folders))]
    lines = [f"import site; site.addsitedir({str(path)!r})\n" for path in folders]
    (Path(purelib) / "zz_siyu_overlay.pth").write_text("".join(lines))
    for command, module in (("pip", "pip"), ("flask", "flask")):
        script = root / "bin" / command
        script.write_text(f'#!/bin/sh\nexec "{python}" -m {module} "$@"\n')
        script.chmod(0o755)
    return python


def install(python: Path, plugin_dir: Path) -> subprocess.CompletedProcess:
    # The core and its dependencies come from the overlay (--no-deps); pip fetches only the
    # build backend the plugin's pyproject.toml names (from its cache once it has it).
    return subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(plugin_dir)],
                          capture_output=True, text=True, timeout=300)


def run_tests(python: Path, plugin_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=plugin_dir, env=env, capture_output=True, text=True, timeout=900)
