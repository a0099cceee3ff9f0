"""Reusable checks for plugin authors' test suites.

``PluginPackageChecks``: subclass it in a plugin's tests to prove the package is complete —
its Chinese and English catalogs cover every marked string and are compiled, its shared
strings keep the core's wording, and its Alembic branch is labelled and builds its models::

    from siyu.plugin.testing import PluginPackageChecks

    class TestCouponsPackage(PluginPackageChecks):
        plugin = "coupons"
        package_dir = Path(__file__).resolve().parents[1] / "siyu_coupons"

``run_together(n, work)``: release ``n`` threads at once on a barrier, for race tests.
``use_core_wording(translations)``: give the strings a plugin shares with the core the core's
Chinese wording (a plugin's catalog is merged over the core's, so its wording would win).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import pytest


def run_together(n: int, work: Callable[[int], Any], timeout: float = 120) -> tuple[list, list]:
    """Run ``work(i)`` for i in 0..n-1 in threads released together; returns (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def runner(i):
        barrier.wait()
        try:
            results.append(work(i))
        except Exception as exc:  # collected for the test to assert on
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors


def _read(path: Path, locale: str | None = None):
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_mo(handle) if path.suffix == ".mo" else read_po(handle, locale=locale)


def use_core_wording(translations: str | Path) -> list[str]:
    """In ``<translations>/zh_Hans_CN/LC_MESSAGES/messages.po``, give every string the core
    also translates the core's wording; returns the strings changed. Run by a plugin's
    ``make i18n-extract`` before translating the rest."""
    from babel.messages.pofile import write_po

    from siyu.storefront.i18n import TRANSLATIONS

    path = Path(translations) / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    core, mine = _read(TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "zh_Hans_CN"), _read(path, "zh_Hans_CN")
    changed = []
    for message in mine:
        theirs = core.get(message.id) if message.id else None
        if theirs is not None and theirs.string and theirs.string != message.string:
            message.string = theirs.string
            changed.append(message.id)
    if changed:
        with path.open("wb") as handle:
            write_po(handle, mine, width=100)
    return changed


class PluginPackageChecks:
    """Package checks shared by every plugin; set ``plugin`` and ``package_dir``."""

    plugin: str = ""
    package_dir: Path = Path()
    #: Fewer extracted strings than this means extraction found the wrong files.
    min_strings: int = 10

    @property
    def catalogs(self) -> Path:
        return self.package_dir / "translations"

    @property
    def fix(self) -> str:
        return (f"run `make i18n-extract` in the {self.plugin} plugin's folder (it also takes the core's "
                "wording for shared strings), translate, then `make i18n-compile`")

    def catalog(self, locale: str, suffix: str = ".po"):
        return _read(self.catalogs / locale / "LC_MESSAGES" / f"messages{suffix}", locale)

    @pytest.fixture
    def extracted(self, tmp_path_factory):
        from babel.messages.frontend import CommandLineInterface

        pot = tmp_path_factory.mktemp(f"{self.plugin}-i18n") / "messages.pot"
        CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(self.package_dir.parent / "babel.cfg"),
                                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(self.package_dir)])
        return _read(pot)

    def test_every_string_has_chinese_and_english_entries(self, extracted):
        zh, en = self.catalog("zh_Hans_CN"), self.catalog("en")
        missing = [m.id for m in extracted if m.id and not (zh.get(m.id) and zh.get(m.id).string)]
        assert not missing, f"untranslated: {missing}; {self.fix}"
        assert not [m.id for m in extracted if m.id and en.get(m.id) is None], self.fix
        assert len(extracted) > self.min_strings

    @pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
    def test_compiled_catalog_is_current(self, locale):
        po, mo = self.catalog(locale), self.catalog(locale, ".mo")
        assert {m.id: m.string for m in mo if m.id} == \
            {m.id: m.string for m in po if m.id and m.string}, self.fix

    def test_strings_shared_with_the_core_keep_the_cores_wording(self):
        from siyu.storefront.i18n import TRANSLATIONS

        core = _read(TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "zh_Hans_CN")
        different = [m.id for m in self.catalog("zh_Hans_CN")
                     if m.id and core.get(m.id) is not None and core.get(m.id).string not in ("", m.string)]
        assert not different, f"the plugin's catalog would change the core's wording of {different}; {self.fix}"

    def test_branch_is_labelled_and_builds_the_models(self, siyu_kernel):
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from siyu.core import migrate
        from siyu.core.db import Base

        kernel = siyu_kernel
        script = ScriptDirectory.from_config(migrate.alembic_config(kernel))
        first = script.get_revision(f"{self.plugin}_0001")
        assert first.branch_labels == {self.plugin} and first.down_revision is None
        assert script.get_revision(f"{self.plugin}@head").revision in migrate.current_heads(kernel)
        owners = {m.local_table.name: m.class_.__module__.split(".")[0] for m in Base.registry.mappers}
        with kernel.db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        package = self.package_dir.name
        mine = [d for d in diff if owners.get(getattr(getattr(d[1], "table", d[1]), "name", "")) == package]
        assert mine == []
