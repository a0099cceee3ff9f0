"""Plugins stay apart: none imports another, each owns its prefixed tables and its branch.

Everything here reads the plugins' files (or imports them in a child process with the
plugin folders on its path), so it runs the same with no plugin installed (`make test-alone`).
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = sorted(p.parent.name for p in (ROOT / "plugins").glob("*/setup.cfg"))


def foreign_imports(source: str, own: str) -> list[str]:
    """Modules named ``siyu_<x>`` (x != own) imported by ``source``, statically or by name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__", "find_spec") and node.args:
            arg = node.args[0]
            names = [arg.value] if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else []
        found += [n for n in names if n.split(".")[0].startswith("siyu_") and n.split(".")[0] != f"siyu_{own}"]
    return found


def test_the_import_check_catches_an_offender():
    source = "import siyu_coupons\nfrom siyu_crm_tags.points import spend\nimport siyu_curation.models\n" \
             "importlib.import_module('siyu_checkin.service')\nfrom siyu.core import hookimpl\n"
    assert foreign_imports(source, "curation") == ["siyu_coupons", "siyu_crm_tags.points", "siyu_checkin.service"]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_no_plugin_imports_another(plugin):
    offenders = []
    for path in sorted((ROOT / "plugins" / plugin).rglob("*.py")):
        if "egg-info" in str(path) or "build" in path.parts:
            continue
        for name in foreign_imports(path.read_text(encoding="utf-8"), plugin):
            offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == [], "plugins cooperate through hooks, never imports:\n" + "\n".join(offenders)


# Imports each plugin's hook module in turn (they never import each other) and reports the
# tables that appeared with it, and the prefix it declares (TABLE_PREFIX, default "<name>_").
PROBE = """
import importlib, json, sys
from siyu.core.db import Base
import siyu.core.models
report = {}
for name in sys.argv[1:]:
    before = set(Base.metadata.tables)
    importlib.import_module(f"siyu_{name}.plugin")
    models = importlib.import_module(f"siyu_{name}.models")
    report[name] = {"prefix": getattr(models, "TABLE_PREFIX", f"{name}_"),
                    "tables": sorted(set(Base.metadata.tables) - before)}
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def model_tables():
    paths = [str(ROOT / "plugins" / p) for p in PLUGINS]
    result = subprocess.run([sys.executable, "-c", "import sys; sys.path[:0] = " + repr(paths) + "\n" + PROBE,
                             *PLUGINS], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def migration_facts(path: Path) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    facts: dict = {"created": [], "dropped": [], "touched": set()}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            facts[node.targets[0].id] = ast.literal_eval(node.value)
    for node in ast.walk(tree):
        # Only ``op.<operation>(...)``: ``batch_op`` calls act on the table of their batch.
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "op"):
            continue
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        keywords = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
        operation = node.func.attr
        if operation in ("create_index", "drop_index"):  # (index name, table name, ...)
            table = keywords.get("table_name") or (args[1] if len(args) > 1 else None)
        else:
            table = args[0] if args else keywords.get("table_name")
        if table is None:
            continue
        if operation == "create_table":
            facts["created"].append(table)
        elif operation == "drop_table":
            facts["dropped"].append(table)
        elif operation not in ("f", "execute"):  # raw SQL is not scanned
            facts["touched"].add(table)
    return facts


def test_the_migration_scan_sees_other_owners_tables(tmp_path):
    sample = tmp_path / "x_0001.py"
    sample.write_text("revision = 'x_0001'\ndown_revision = None\nbranch_labels = ('x',)\n"
                      "def upgrade():\n    op.create_table('x_items')\n"
                      "    op.add_column('orders', sa.Column('x_note', sa.Text()))\n"
                      "    op.create_index('ix_members_x', 'members', ['id'])\n")
    facts = migration_facts(sample)
    assert facts["created"] == ["x_items"] and facts["touched"] == {"orders", "members"}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_tables_carry_the_prefix_and_live_in_the_plugins_branch(plugin, model_tables):
    prefix, tables = model_tables[plugin]["prefix"], model_tables[plugin]["tables"]
    assert tables, f"{plugin} declares no tables"
    assert [t for t in tables if not t.startswith(prefix)] == []

    versions = ROOT / "plugins" / plugin / f"siyu_{plugin}" / "migrations" / "versions"
    revisions = [migration_facts(p) for p in sorted(versions.glob("*.py"))]
    assert revisions, f"{plugin} has no migration branch"
    assert [r["revision"] for r in revisions if not r["revision"].startswith(f"{plugin}_")] == []
    roots = [r for r in revisions if r["down_revision"] is None]
    assert len(roots) == 1 and tuple(roots[0]["branch_labels"]) == (plugin,)
    depends = roots[0].get("depends_on") or ()
    assert all(d.startswith("core_") for d in ([depends] if isinstance(depends, str) else depends))

    created = [t for r in revisions for t in r["created"]]
    dropped = {t for r in revisions for t in r["dropped"]}
    touched = {t for r in revisions for t in r["touched"]} | set(created) | dropped
    # Its branch touches only its own tables, and creates exactly the tables its models declare
    # (downgrade() drops what upgrade() created, so drops are checked only for the prefix).
    assert [t for t in touched if not t.startswith(prefix)] == []
    assert sorted(created) == tables
