"""``flask siyu new-plugin NAME``: a complete plugin distribution from ``plugin_template/``.

The template files end in ``.tmpl`` (so nothing collects or imports them inside the core) and
use ``string.Template`` placeholders (``${name}``), which never clash with Jinja's braces in
the generated templates (``$$`` is a plain ``$``, as in the Makefile). ``NAME`` in a template
path becomes the plugin's name. The translation catalogs are compiled as they are written, so
a fresh plugin passes ``PluginPackageChecks``. Nothing is written outside ``<dest>/<name>/``.
"""
from __future__ import annotations

import keyword
import re
from datetime import date
from importlib.util import find_spec
from pathlib import Path
from string import Template

from siyu.core.plugins import installed_entry_points

TEMPLATE_DIR = Path(__file__).resolve().parent / "plugin_template"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Alembic's version column holds 32 characters and revisions are "<name>_0001".
MAX_LENGTH = 24
# Names that would read as the core's own or shadow its packages.
RESERVED = {"core", "siyu", "storefront", "admin", "api", "static", "test", "tests", "plugin", "plugins"}


class ScaffoldError(ValueError):
    """The name or the destination cannot be used; the message says why."""


def validate_name(name: str) -> str:
    if not NAME_RE.match(name) or not name.isidentifier() or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r}: use lowercase letters, digits and underscores, starting with a letter")
    if name.endswith("_") or "__" in name:
        raise ScaffoldError(f"{name!r}: no leading, trailing or double underscores")
    if len(name) > MAX_LENGTH:
        raise ScaffoldError(f"{name!r}: at most {MAX_LENGTH} characters")
    if name in RESERVED:
        raise ScaffoldError(f"{name!r} is reserved by Siyu")
    if name in {ep.name for ep in installed_entry_points()}:
        raise ScaffoldError(f"a plugin named {name!r} is already installed")
    if find_spec(f"siyu_{name}") is not None:
        raise ScaffoldError(f"a package siyu_{name} is already importable")
    return name


def placeholders(name: str) -> dict[str, str]:
    words = name.split("_")
    return {
        "name": name,                                 # entry point, branch, table prefix
        "Name": "".join(w.capitalize() for w in words),  # class names
        "title": " ".join(words).capitalize(),        # human text
        "slug": "-".join(words),                      # URLs
        "date": date.today().isoformat(),
    }


def render(name: str) -> dict[str, str]:
    """The distribution's text files, ``{relative path: content}``, for any well-formed name
    (``generate`` checks the name against the installed plugins too)."""
    values = placeholders(name)
    rendered = {}
    for source in sorted(p for p in TEMPLATE_DIR.rglob("*.tmpl") if p.is_file()):
        relative = source.relative_to(TEMPLATE_DIR).as_posix().removesuffix(".tmpl").replace("NAME", name)
        rendered[relative] = Template(source.read_text(encoding="utf-8")).substitute(values)
    return rendered


def _compile_catalogs(target: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from siyu.storefront.testing_checks import use_core_wording

    for translations in target.glob("siyu_*/translations"):
        use_core_wording(translations)  # the core's wording for the strings it shares
        for po in translations.glob("*/LC_MESSAGES/messages.po"):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parents[1].name)
            with po.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog)


def generate(name: str, dest: Path | str = ".") -> Path:
    """Write ``<dest>/<name>/`` and return it; nothing is written when the name is invalid
    or the folder already exists."""
    validate_name(name)
    target = Path(dest) / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists")
    for relative, text in render(name).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _compile_catalogs(target)
    return target
