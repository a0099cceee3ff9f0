"""The plugin ships its own Chinese catalog (``register_translations``): complete and compiled.

After changing a string: see the plugin's README, "Translations".
"""
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from siyu_curation import service

PACKAGE = Path(__file__).resolve().parents[1] / "siyu_curation"
CATALOG = PACKAGE / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)")
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def extracted_ids() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    return {message[2] if isinstance(message[2], str) else message[2][0]
            for message in extract_from_dir(str(PACKAGE), METHODS, keywords=keywords)}


def test_every_string_has_a_chinese_translation_with_the_same_placeholders():
    with (CATALOG / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_Hans_CN")
    missing = sorted(i for i in extracted_ids() if not (catalog.get(i) and catalog.get(i).string))
    assert missing == [], f"translate these in {CATALOG / 'messages.po'}: {missing}"
    for message in catalog:
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(message.id)) == set(PLACEHOLDER.findall(message.string)), message.id


def test_compiled_catalog_is_current():
    with (CATALOG / "messages.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f, locale="zh_Hans_CN") if m.id}
    with (CATALOG / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert po == mo, "run pybabel compile (see the plugin's README)"


def test_messages_render_in_chinese(owner_client, kernel, db, products, csrf):
    for p in products[:30]:
        service.publish(kernel, db, "main", p.id)
    token = csrf(owner_client, "/admin/curation/c/main")
    html = owner_client.post("/admin/curation/c/main/publish", headers={"Accept-Language": "zh-CN"},
                             data={"product_id": products[30].id, "csrf_token": token},
                             follow_redirects=True).get_data(as_text=True)
    assert "此目录最多 30 件商品，已满" in html and "商品30" in html
    assert "精选目录" in owner_client.get("/admin/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
