"""Render ``docs/hooks.md`` from the hook modules: the docstrings are the reference.

The core's hooks (``core/hookspecs.py``, then ``core/hookspecs_people.py``) come first, then
the storefront's web hooks (``storefront/hookspecs.py``) when the storefront is installed.
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from types import ModuleType

from siyu.core import hookspecs, hookspecs_people
from siyu.core.hookexamples import find_examples

GROUP = re.compile(r"^# -+ (.+)$")


def spec_modules() -> list[ModuleType]:
    """The documented hook modules: the core's, then the storefront's when it is installed."""
    try:
        from siyu.storefront import hookspecs as web
    except ImportError:  # pragma: no cover - the core alone
        return [hookspecs, hookspecs_people]
    return [hookspecs, hookspecs_people, web]


def _functions(module: ModuleType) -> list[ast.FunctionDef]:
    tree = ast.parse(inspect.getsource(module))
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)]


def hook_names(modules: list[ModuleType] | None = None) -> list[str]:
    return [node.name for module in (modules or spec_modules()) for node in _functions(module)]


def _source_path(module: ModuleType) -> str:
    return "/".join(module.__name__.split(".")[1:]) + ".py"  # siyu.core.hookspecs -> core/hookspecs.py


def render(root: Path | None = None, modules: list[ModuleType] | None = None) -> str:
    """docs/hooks.md; examples are read from the source tree at ``root`` (by default the one
    ``siyu.core`` was imported from: a checkout, when installed in editable mode)."""
    modules = modules or spec_modules()
    names = hook_names(modules)
    sources = " and ".join(f"`{_source_path(m)}`" for m in modules)
    out = [
        "# Hooks reference",
        "",
        f"Generated from {sources} by `flask siyu hooks-doc`; do not edit by hand.",
        "Implement a hook with `@siyu.plugin.hookimpl`; an implementation may take any subset",
        "of the arguments. Register your module under the entry point group `siyu`.",
        "The core's hooks are web-free (the CLI and jobs call them too); the storefront's web",
        "hooks follow them.",
        "",
    ]
    examples = find_examples(names, root) if root is not None else find_examples(names)
    for module in modules:
        out += _render_module(module, examples)
    return "\n".join(out).rstrip() + "\n"


def _render_module(module: ModuleType, examples: dict) -> list[str]:
    source = inspect.getsource(module)
    lines = source.splitlines()
    groups = {i + 1: m.group(1).strip() for i, line in enumerate(lines) if (m := GROUP.match(line))}
    out: list[str] = []
    last_group = None
    for node in _functions(module):
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
    return out
