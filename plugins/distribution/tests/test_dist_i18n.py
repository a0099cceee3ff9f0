"""The plugin's Chinese catalog covers every string and is compiled."""
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from dist_helpers import link_of, make_distributor

from siyu.plugin import Member
from siyu.plugin.testing import login

PACKAGE = Path(__file__).resolve().parents[1] / "siyu_distribution"
ROOT = Path(__file__).resolve().parents[3]
ZH = PACKAGE / "translations" / "zh_Hans_CN" / "LC_MESSAGES"


def test_every_string_has_a_chinese_translation_and_the_mo_is_current(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), str(PACKAGE)])
    with pot.open("rb") as f:
        extracted = read_po(f)
    with (ZH / "messages.po").open("rb") as f:
        zh = read_po(f, locale="zh_Hans_CN")
    missing = [m.id for m in extracted if m.id and not (zh.get(m.id) and zh.get(m.id).string)]
    assert not missing, f"translate these in {ZH / 'messages.po'}: {missing}"
    with (ZH / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == {m.id: m.string for m in zh if m.id and m.string and not m.fuzzy}, "run pybabel compile"


def test_distributor_center_speaks_chinese(client, kernel, db):
    seller = make_distributor(kernel, db)
    login(client, db.get(Member, seller.member_id).email)
    html = client.get("/distribution/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "分销中心" in html and "可提现" in html and link_of(db, seller).code in html
