"""Render ``docs/hooks.md`` from ``hookspecs.py``: the docstrings are the reference."""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from siyu.core import hookspecs
from siyu.core.hookexamples import find_examples

GROUP = re.compile(r"^# -+ (.+)$")


def hook_names() -> list[str]:
    tree = ast.parse(inspect.getsource(hookspecs))
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def render(root: Path | None = None) -> str:
    """docs/hooks.md; examples are read from the source tree at ``root`` (by default the one
    ``siyu.core`` was imported from: a checkout, when installed in editable mode)."""
    source = inspect.getsource(hookspecs)
    tree = ast.parse(source)
    lines = source.splitlines()
    groups = {i + 1: m.group(1).strip() for i, line in enumerate(lines) if (m := GROUP.match(line))}
    out = [
        "# Hooks reference",
        "",
        "Generated from `core/hookspecs.py` by `flask siyu hooks-doc`; do not edit by hand.",
        "Implement a hook with `@siyu.core.hookimpl`; an implementation may take any subset",
        "of the arguments. Register your module under the entry point group `siyu`.",
        "",
    ]
    last_group = None
    examples = find_examples(hook_names(), root) if root is not None else find_examples(hook_names())
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        header = [name for line_no, name in groups.items() if line_no < node.lineno]
        if header and header[-1] != last_group:
            last_group = header[-1]
            out += [f"## {last_group.capitalize()}", ""]
        options = [kw.arg for dec in node.decorator_list if isinstance(dec, ast.Call)
                   for kw in dec.keywords]
        signature = ast.get_source_segment(source, node).split(":\n", 1)[0].replace("def ", "", 1)
        signature = " ".join(signature.split())
        out += [f"### `{node.name}`", ""]
        if options:
            out += [f"*{', '.join(options)}*", ""]
        out += ["```python", signature, "```", "", inspect.cleandoc(ast.get_docstring(node) or ""), ""]
        example = examples.get(node.name)
        if example is not None:
            out += [f"Example, from `{example.path}`:", "", "```python", example.source, "```", ""]
    return "\n".join(out).rstrip() + "\n"
