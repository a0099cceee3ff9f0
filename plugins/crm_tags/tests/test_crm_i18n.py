"""The plugin's own catalogs: every string it marks has a Chinese translation, compiled."""
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from siyu.plugin.testing import login

PACKAGE = Path(__file__).resolve().parents[1] / "siyu_crm_tags"
ROOT = Path(__file__).resolve().parents[3]


def test_every_string_is_translated_and_compiled(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), str(PACKAGE)])
    extracted = read_po(pot.open("rb"))
    po_file = PACKAGE / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    zh = read_po(po_file.open("rb"), locale="zh_Hans_CN")
    missing = [m.id for m in extracted if m.id and not (zh.get(m.id) and zh.get(m.id).string)]
    assert not missing, f"untranslated (extract into the plugin's catalog, translate, compile): {missing}"
    mo = read_mo(po_file.with_suffix(".mo").open("rb"))
    assert {m.id: m.string for m in mo if m.id} == {m.id: m.string for m in zh if m.id and m.string}


def test_member_card_speaks_chinese(client, member):
    login(client)
    page = client.get("/account/member-card", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "会员卡" in page and "积分明细" in page
