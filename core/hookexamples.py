"""Find a real implementation of each hook in the repository, for ``docs/hooks.md``.

Examples come from code the test suites run, preferred in this order: the core's default
plugins, the tutorial's plugin (``docs/examples/``), the bundled plugins, then the tests'
own plugin objects; within a source, the shortest implementation wins (ties by path), so
the choice is stable.
"""
from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import siyu.core

#: The source checkout (an editable install); without it the docs carry no examples.
REPO = Path(siyu.core.__file__).resolve().parent.parent
LONGEST = 40  # lines; a longer implementation is used only when there is no other


@dataclass(frozen=True)
class Example:
    hook: str
    path: str  # relative to the repository, POSIX
    source: str

    @property
    def lines(self) -> int:
        return self.source.count("\n") + 1


def _sources(root: Path) -> list[list[Path]]:
    def python(folder: Path, pattern: str) -> list[Path]:
        return sorted(p for p in folder.glob(pattern) if "egg-info" not in str(p) and "/build/" not in str(p))

    return [python(root / "core" / "default_plugins", "*.py"),
            python(root / "docs" / "examples", "*/siyu_*/**/*.py"),
            python(root / "plugins", "*/siyu_*/**/*.py"),
            python(root / "tests", "*.py") + python(root / "plugins", "*/tests/*.py")]


def _is_hookimpl(decorator: ast.expr) -> dict | None:
    """The decorator's keywords when it is ``@hookimpl`` / ``@hookimpl(...)``, else ``None``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
    if name != "hookimpl":
        return None
    if not isinstance(decorator, ast.Call):
        return {}
    return {k.arg: k.value.value for k in decorator.keywords if isinstance(k.value, ast.Constant)}


def implementations(path: Path, root: Path) -> list[Example]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            options = _is_hookimpl(decorator)
            if options is None:
                continue
            start = min(d.lineno for d in node.decorator_list)
            source = textwrap.dedent("\n".join(lines[start - 1:node.end_lineno]))
            found.append(Example(options.get("specname") or node.name, path.relative_to(root).as_posix(), source))
    return found


def find_examples(hooks: list[str], root: Path = REPO) -> dict[str, Example]:
    """The chosen example per hook name (hooks without any implementation are left out)."""
    chosen: dict[str, Example] = {}
    for tier in _sources(root):
        candidates: dict[str, list[Example]] = {}
        for path in tier:
            for example in implementations(path, root):
                if example.hook in hooks and example.hook not in chosen:
                    candidates.setdefault(example.hook, []).append(example)
        for hook, examples in candidates.items():
            short = [e for e in examples if e.lines <= LONGEST] or examples
            chosen[hook] = min(short, key=lambda e: (e.lines, e.path))
    return chosen
