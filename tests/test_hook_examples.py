"""docs/hooks.md shows, for every hook, a real implementation taken from code the tests run."""
from __future__ import annotations

import ast
from pathlib import Path

from siyu.core.hookdoc import hook_names
from siyu.core.hookexamples import find_examples, implementations

ROOT = Path(__file__).resolve().parent.parent


def test_every_hook_has_an_example_from_the_repository():
    examples = find_examples(hook_names(), ROOT)
    assert sorted(set(hook_names()) - set(examples)) == []
    for hook, example in examples.items():
        text = (ROOT / example.path).read_text(encoding="utf-8")
        assert all(line.strip() in text for line in example.source.splitlines())  # methods are dedented
        function = ast.parse(example.source).body[0]
        assert isinstance(function, ast.FunctionDef) and hook in (function.name, example.hook)


def test_default_plugins_and_the_tutorial_come_first():
    examples = find_examples(hook_names(), ROOT)
    assert examples["catalog_products"].path.startswith("core/default_plugins/")
    assert examples["on_order_placed"].path.startswith("docs/examples/gift_message/")


def test_specname_and_methods_are_found(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text("class P:\n    @hookimpl(specname='on_order_paid', tryfirst=True)\n"
                      "    def paid(self, order):\n        return order\n\n"
                      "@siyu.core.hookimpl\ndef catalog_sorts():\n    return ['position']\n\n"
                      "def on_order_cancelled(order):\n    pass\n")
    found = {e.hook: e.source for e in implementations(module, tmp_path)}
    assert sorted(found) == ["catalog_sorts", "on_order_paid"]
    assert found["on_order_paid"].startswith("@hookimpl(specname='on_order_paid', tryfirst=True)\ndef paid(self")
