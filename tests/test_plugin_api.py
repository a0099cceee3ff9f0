"""The public plugin API: what plugins may import, that it is web-free, and that docs cover it.

The bundled plugins, the example plugin, the scaffold's template and the tutorial import only
``siyu.plugin*`` and their own package; anything else of ``siyu`` is internal.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import siyu.plugin
import siyu.plugin.testing
import siyu.plugin.web

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"siyu.plugin", "siyu.plugin.web", "siyu.plugin.testing", "siyu.plugin.settings", "siyu.plugin.jobs",
          "siyu.plugin.migrate", "siyu.plugin.after_sales"}
DOC = ROOT / "docs" / "plugin-api.md"


def internal_imports(source: str) -> list[str]:
    """Modules of ``siyu`` outside the public API that ``source`` imports."""
    source = re.sub(r"\$\{(\w+)\}", r"QQ\1QQ", source)  # the scaffold's ${name} placeholders
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "siyu.plugin":  # `from siyu.plugin import settings` is a submodule
                names = [f"siyu.plugin.{a.name}" if f"siyu.plugin.{a.name}" in PUBLIC else "siyu.plugin"
                         for a in node.names]
        else:
            continue
        found += [n for n in names if (n == "siyu" or n.startswith("siyu.")) and n not in PUBLIC]
    return found


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


def plugin_sources() -> list[tuple[Path, str]]:
    paths = [p for p in sorted((ROOT / "plugins").rglob("*.py")) + sorted((ROOT / "docs" / "examples").rglob("*.py"))
             + sorted((ROOT / "storefront" / "plugin_template").rglob("*.py.tmpl"))
             if "egg-info" not in str(p) and "build" not in p.parts]
    sources = [(p, p.read_text(encoding="utf-8")) for p in paths]
    tutorial = ROOT / "docs" / "writing-plugins.md"
    sources += [(tutorial, block) for block in python_blocks(tutorial.read_text(encoding="utf-8"))]
    return sources


def test_the_check_catches_an_internal_import():
    source = ("from siyu.core.db import utcnow\nimport siyu.storefront.context\nfrom siyu.plugin import settings, Order\n"
              "from siyu.plugin.web import db\nfrom siyu import core\nfrom siyu.plugin.testing import give_address\n")
    assert internal_imports(source) == ["siyu.core.db", "siyu.storefront.context", "siyu"]


def test_plugins_examples_scaffold_and_tutorial_import_only_the_public_api():
    offenders = [f"{path.relative_to(ROOT)} imports {name}"
                 for path, source in plugin_sources() for name in internal_imports(source)]
    assert offenders == [], "plugins import siyu.plugin, siyu.plugin.web and siyu.plugin.testing only:\n" \
        + "\n".join(offenders)


def test_siyu_plugin_is_web_free():
    probe = ("import sys, siyu.plugin, siyu.plugin.settings, siyu.plugin.jobs, siyu.plugin.migrate, "
             "siyu.plugin.after_sales\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_login', 'flask_wtf', 'flask_babel') "
             "or m.startswith('siyu.storefront')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", [siyu.plugin, siyu.plugin.web, siyu.plugin.testing], ids=lambda m: m.__name__)
def test_every_exported_name_exists_and_is_documented(module):
    documented = set(re.findall(r"^#{3,4} `([A-Za-z_][A-Za-z0-9_]*)", DOC.read_text(encoding="utf-8"), flags=re.M))
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    undocumented = [name for name in module.__all__ if name not in documented]
    assert missing == [] and undocumented == [], (missing, undocumented)


def test_submodules_are_documented():
    text = DOC.read_text(encoding="utf-8")
    for name in ("settings", "jobs", "migrate", "after_sales"):
        module = __import__(f"siyu.plugin.{name}", fromlist=["__all__"])
        assert f"`siyu.plugin.{name}`" in text
        assert all(f"`{name}.{member}" in text for member in module.__all__), name


def test_a_deprecated_name_keeps_working_with_a_warning(monkeypatch):
    monkeypatch.setitem(siyu.plugin._DEPRECATED, "format_amount", ("format_money", "0.3"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert siyu.plugin.format_amount is siyu.plugin.format_money
    assert [str(w.message) for w in caught] == [
        "siyu.plugin.format_amount is deprecated and goes in 0.3: use format_money"]
    with pytest.raises(AttributeError):
        siyu.plugin.no_such_name  # noqa: B018
