"""The Chinese and English catalogs stay complete, compiled and correct.

Adding a marked string without a Chinese translation fails here: run ``make i18n-extract``,
translate the new msgstr in ``storefront/translations/zh_Hans_CN/LC_MESSAGES/messages.po`` and
run ``make i18n-compile``.

The shop's ``zh_CN`` (``LOCALES``) is ``zh_Hans_CN`` once Flask-Babel parses it, so that is
the catalog's directory: Flask-Babel would never read a ``zh_CN`` one.
"""
from __future__ import annotations

import re
from collections import Counter
from html import unescape
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from siyu.storefront.i18n import LOCALES, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[1]
FIX = ("run `make i18n-extract`, translate the empty msgstr in "
       "storefront/translations/zh_Hans_CN/LC_MESSAGES/messages.po, then run `make i18n-compile`")
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")
PLURAL_FORMS = {"zh_CN": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}


def catalog_dir(locale: str) -> str:
    """The directory Flask-Babel looks in for a locale of ``LOCALES`` (zh_CN -> zh_Hans_CN)."""
    return str(Locale.parse(locale))


def po_path(locale: str) -> Path:
    return TRANSLATIONS / catalog_dir(locale) / "LC_MESSAGES" / "messages.po"


def load_po(locale: str) -> Catalog:
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=catalog_dir(locale))


def extract_keywords() -> list[str]:
    """The extra keywords of ``make i18n-extract``, so the test extracts exactly what it does."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^i18n-extract:.*?(?=^\S)", makefile + "\nEND", re.M | re.S)
    assert target, "the Makefile has no i18n-extract target"
    keywords = re.findall(r"-k\s+(\S+)", target.group(0))
    assert "_l" in keywords, "make i18n-extract should extract _l (siyu.core.i18n.lazy_gettext)"
    return keywords


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """A fresh extraction of the source, as ``make i18n-extract`` does it."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    argv = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot)]
    for keyword in extract_keywords():
        argv += ["-k", keyword]
    argv += [str(ROOT / "core"), str(ROOT / "storefront")]
    CommandLineInterface().run(argv)
    with pot.open("rb") as f:
        catalog = read_po(f)
    assert len(catalog) > 50, "the extraction found suspiciously few strings"
    return catalog


def describe(message) -> str:
    where = ", ".join(f"{Path(path).resolve().relative_to(ROOT) if Path(path).is_absolute() else path}"
                      f":{line}" for path, line in message.locations[:2])
    return f"  {message.id!r}" + (f"  ({where})" if where else "")


def as_list(value) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def placeholders(text: str) -> Counter:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(2) != "%")


def test_every_locale_has_a_catalog_with_the_right_header():
    assert set(LOCALES) == {"zh_CN", "en"}
    for locale in LOCALES:
        assert po_path(locale).is_file(), f"{po_path(locale)} is missing; {FIX}"
        catalog = load_po(locale)
        assert not catalog.fuzzy, f"{locale}: the catalog header is fuzzy, so it would not compile"
        assert catalog.locale_identifier == catalog_dir(locale)
        assert catalog.plural_forms == PLURAL_FORMS[locale]
        assert catalog.charset == "utf-8"
        assert "POT-Creation-Date" in dict(catalog.mime_headers)


def test_every_extracted_string_has_a_chinese_translation(extracted):
    zh, en = load_po("zh_CN"), load_po("en")
    missing, fuzzy, not_in_en = [], [], []
    for message in extracted:
        if not message.id:
            continue
        found = zh.get(message.id, context=message.context)
        if found is None or not all(as_list(found.string)):
            missing.append(describe(message))
        elif found.fuzzy:
            fuzzy.append(describe(message))
        if en.get(message.id, context=message.context) is None:
            not_in_en.append(describe(message))
    assert not missing, (f"{len(missing)} string(s) have no Chinese translation; {FIX}:\n"
                         + "\n".join(missing))
    assert not fuzzy, ("fuzzy Chinese translations are not used; check them and remove the "
                       "'#, fuzzy' flag:\n" + "\n".join(fuzzy))
    assert not not_in_en, ("the English catalog lacks these strings; run `make i18n-extract`:\n"
                           + "\n".join(not_in_en))


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_matches_the_po(locale):
    po = load_po(locale)
    mo_file = po_path(locale).with_suffix(".mo")
    assert mo_file.is_file(), f"{mo_file} is missing; run `make i18n-compile` and commit it"
    with mo_file.open("rb") as f:
        mo = read_mo(f)
    # What `pybabel compile` writes: translated, non-fuzzy messages only.
    expected = {(m.id, m.context): m.string for m in po
                if m.id and all(as_list(m.string)) and not m.fuzzy}
    compiled = {(m.id, m.context): m.string for m in mo if m.id}
    assert compiled == expected, (f"{mo_file.name} for {locale} is out of date with the .po; "
                                  "run `make i18n-compile` and commit the .mo")
    assert mo.plural_forms == po.plural_forms
    assert mo.charset == "utf-8"
    if locale == "zh_CN":
        assert compiled[("Cart", None)] == "购物车"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_the_source(locale):
    wrong = []
    for message in load_po(locale):
        if not message.id:
            continue
        ids = as_list(message.id)
        for index, translation in enumerate(as_list(message.string)):
            if not translation:
                continue
            source = ids[min(index, len(ids) - 1)]
            if placeholders(translation) != placeholders(source):
                wrong.append(f"  {message.id!r}: {translation!r}")
                continue
            names = {name for name, _ in PLACEHOLDER.findall(source) if name}
            if names:
                try:
                    translation % {name: 1 for name in names}
                except (KeyError, ValueError, TypeError) as exc:
                    wrong.append(f"  {message.id!r}: {translation!r} ({exc})")
    assert not wrong, (f"{locale}: these translations change the %(name)s placeholders of their "
                       "source (use exactly the same ones):\n" + "\n".join(wrong))


def test_placeholder_check_catches_a_changed_placeholder():
    assert placeholders("仅剩 %(n)d 件。") == placeholders("Only %(n)d left.")
    assert placeholders("仅剩 %(n)s 件。") != placeholders("Only %(n)d left.")
    assert placeholders("仅剩 %(count)d 件。") != placeholders("Only %(n)d left.")
    assert placeholders("100%% 纯棉") == Counter()


def page(client, path: str, language: str | None = None) -> str:
    headers = {"Accept-Language": language} if language else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_home_page_speaks_the_visitors_language(client):
    zh = page(client, "/", "zh-CN,zh;q=0.9,en;q=0.5")
    assert '<html lang="zh-' in zh
    assert "购物车" in zh and "登录" in zh and "还没有上架商品" in zh
    assert "Cart" not in zh and "Log in" not in zh

    en = page(client, "/", "en-US,en;q=0.8")
    assert '<html lang="en">' in en
    assert "Cart" in en and "Log in" in en and "Nothing on the shelves yet" in en
    assert "购物车" not in en

    assert "购物车" in page(client, "/", "zh")


def test_language_switcher_wins_over_accept_language(client):
    response = client.get("/locale/en", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 302
    html = page(client, "/", "zh-CN")
    assert "Cart" in html and "购物车" not in html

    client.get("/locale/zh_CN")
    html = page(client, "/", "en")
    assert "购物车" in html and "Cart" not in html


def test_unknown_language_is_a_clear_404(client):
    response = client.get("/locale/xx", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    body = unescape(response.get_data(as_text=True))
    assert "Unknown language 'xx'" in body
    assert "zh_CN" in body and "en" in body
    # The failed switch does not change the visitor's language.
    assert "购物车" in page(client, "/", "zh-CN")


def test_error_pages_and_core_messages_are_translated(app, client):
    response = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert "找不到该页面。" in response.get_data(as_text=True)

    from siyu.core.i18n import lazy_gettext
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert str(lazy_gettext("Card")) == "银行卡"
        assert str(lazy_gettext("Not enough stock for %(sku)s.", sku="TEA-1")) == "TEA-1 库存不足。"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert str(lazy_gettext("Card")) == "Card"
