"""The plugin's own catalogs are complete and compiled; its Alembic branch matches its models."""
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from checkin_helpers import staff_login

from siyu.core import migrate
from siyu.core.db import Base

PLUGIN = Path(__file__).resolve().parents[1]
CATALOGS = PLUGIN / "siyu_checkin" / "translations"
FIX = ("run `make i18n-extract` in plugins/checkin (it also takes the core's wording for shared "
       "strings), translate, then `make i18n-compile`")


def load(locale: str, suffix: str = ".po"):
    path = CATALOGS / locale / "LC_MESSAGES" / f"messages{suffix}"
    with path.open("rb") as f:
        return read_po(f, locale=locale) if suffix == ".po" else read_mo(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("checkin-i18n") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(PLUGIN / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), str(PLUGIN / "siyu_checkin")])
    with pot.open("rb") as f:
        return read_po(f)


def test_every_string_has_chinese_and_english_entries(extracted):
    zh, en = load("zh_Hans_CN"), load("en")
    missing = [m.id for m in extracted if m.id and not (zh.get(m.id) and zh.get(m.id).string)]
    assert not missing, f"untranslated: {missing}; {FIX}"
    assert not [m.id for m in extracted if m.id and en.get(m.id) is None], FIX
    assert len(extracted) > 100


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_compiled_catalog_is_current(locale):
    po, mo = load(locale), load(locale, ".mo")
    assert {m.id: m.string for m in mo if m.id} == {m.id: m.string for m in po if m.id and m.string}, FIX


def test_strings_shared_with_the_core_keep_the_cores_wording():
    from siyu.storefront.i18n import TRANSLATIONS

    with (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        core = read_po(f)
    different = [m.id for m in load("zh_Hans_CN")
                 if m.id and core.get(m.id) is not None and core.get(m.id).string not in ("", m.string)]
    assert not different, f"the plugin's catalog would change the core's wording of {different}; {FIX}"


def test_back_office_speaks_chinese(client, owner):
    staff_login(client)
    html = client.get("/admin/checkin", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "签到保持的可联系会员" in html and "还没有签到" in html and "Latest check-ins" not in html


def test_branch_is_labelled_and_builds_the_models(kernel):
    script = ScriptDirectory.from_config(migrate.alembic_config(kernel))
    first = script.get_revision("checkin_0001")
    assert first.branch_labels == {"checkin"} and first.down_revision is None
    assert "checkin_0001" in migrate.current_heads(kernel)
    with kernel.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = [d for d in diff if "checkin_" in repr(d)]
    assert mine == []
