"""The request's Babel locale is parsed once per code per process, and still follows the shopper."""
from __future__ import annotations

from flask_babel import get_locale


def test_same_locale_object_for_the_same_code(app):
    seen = []
    for language in ("zh-CN", "zh-CN", "en-US", "en"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            seen.append(get_locale())
    assert [str(locale) for locale in seen] == ["zh_Hans_CN", "zh_Hans_CN", "en", "en"]
    assert seen[0] is seen[1] and seen[2] is seen[3]


def test_pages_still_switch_language(client):
    assert "购物车" in client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Cart" in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
