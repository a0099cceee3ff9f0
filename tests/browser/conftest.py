"""Browser journeys: the shop with every bundled plugin, served on 127.0.0.1 with
localstripe, driven by Debian's Chromium through Playwright on a phone-sized screen.

The browser is the system one (never downloaded). Each journey records console errors,
page errors, failed requests and every answer >= 400 on all its pages and fails on any.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from siyu.storefront import devstripe

try:  # the test extra; missing on a machine set up without it, never in CI
    import playwright  # noqa: F401
except ImportError:
    if os.environ.get("CI"):
        raise

CHROMIUM = "/usr/bin/chromium"
# No sandbox: CI runs as root in a container. The rest keeps Chromium off the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
# A phone browser's User-Agent: the QR scan log classes "HeadlessChrome" as a bot.
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_LOCALES = {"zh_CN": "zh-CN", "en": "en-US"}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session; each journey opens its own contexts."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary profile (user data dir), removed at close.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def siyu_config(stripe_config):
    return {"PLUGINS": "*", **stripe_config}


@pytest.fixture
def shop(app, live_server, localstripe):
    """The app served over HTTP, with localstripe's webhooks pointed at it."""
    devstripe.register_webhook(localstripe, f"{live_server.url}/webhooks/stripe")
    return live_server


class Journey:
    """Contexts (one per person), screenshots in order, and the problems seen on the way."""

    def __init__(self, browser, app, base_url: str, name: str, locale: str):
        self.browser, self.app, self.base_url, self.locale = browser, app, base_url, locale
        self.folder = ARTIFACTS / f"{name}-{locale}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.problems: list[str] = []
        self.aborted: list[tuple[str, str]] = []
        self.downloads: set[str] = set()
        self.contexts: list = []
        self.shots = 0

    def person(self, who: str):
        """A new browser context (own cookies) with one page, watched for problems."""
        context = self.browser.new_context(
            base_url=self.base_url, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
            user_agent=PHONE_UA, locale=BROWSER_LOCALES[self.locale], timezone_id="Asia/Shanghai",
            accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"{who} console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"{who} page error: {e}"))
        page.on("requestfailed", lambda r: self._failed(who, r))
        page.on("download", lambda d: self.downloads.add(d.url))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{who} {r.status} {r.url}"))
        return page

    def _failed(self, who, request) -> None:
        if request.failure == "net::ERR_ABORTED":
            self.aborted.append((who, request.url))
            return
        self.problems.append(f"{who} request failed: {request.url} {request.failure}")

    def unexplained(self) -> list[str]:
        """The problems, and aborted requests that were neither a download (a download ends its
        navigation as "aborted") nor Chromium's own favicon fetch cut short by a navigation
        (pay.js moving on to the return page)."""
        return self.problems + [f"{who} request aborted: {url}" for who, url in self.aborted
                                if url not in self.downloads and not url.endswith("/static/favicon.svg")]

    def shot(self, page, name: str, full_page: bool = True) -> Path:
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def t(self, msgid: str, **values) -> str:
        """``msgid`` as this journey's locale shows it (core and plugin catalogs merged)."""
        from flask_babel import gettext

        with self.app.test_request_context(headers={"Accept-Language": BROWSER_LOCALES[self.locale]}):
            return gettext(msgid, **values)

    def money(self, amount: int, currency: str = "CNY") -> str:
        with self.app.test_request_context(headers={"Accept-Language": BROWSER_LOCALES[self.locale]}):
            return self.app.jinja_env.filters["money"](amount, currency)

    def assert_clean(self) -> None:
        found = self.unexplained()
        assert found == [], "\n".join(found)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def journey(request, chromium, app, shop):
    """``journey(locale)`` → a :class:`Journey` named after the test module."""
    made: list[Journey] = []

    def start(locale: str) -> Journey:
        name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        made.append(Journey(chromium, app, shop.url, name, locale))
        return made[-1]

    yield start
    for item in made:
        item.close()
