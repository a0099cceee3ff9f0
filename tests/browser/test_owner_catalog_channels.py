"""Journey 3: the owner fills the curated catalog to its cap and is refused the 31st item
with a clear message; then creates a QR channel, downloads its poster, and sees a
visitor's scan in the channel funnel.
"""
from __future__ import annotations

import re

import pytest

expect = pytest.importorskip("playwright.sync_api").expect
pytest.importorskip("siyu_curation")  # the journeys need the bundled plugins installed
pytest.importorskip("siyu_qr_channels")

from browser import shop_data  # noqa: E402
from browser.steps import staff_login  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.stripe]
CAP = 30


@pytest.fixture
def full_range(kernel, db):
    """31 active teas, 29 already in the main catalog: one free seat left."""
    shop_data.staff(db, "owner")
    rows = [(f"TEA-{n:02d}", f"春茶 {n:02d} 号", f"Spring tea no. {n:02d}", 5000 + n * 100) for n in range(1, 32)]
    teas = shop_data.products(db, rows)
    shop_data.curate(kernel, db, teas[:CAP - 1])
    return teas


def publish(page, journey, sku: str) -> None:
    page.get_by_label(journey.t("Search products")).fill(sku)
    page.get_by_role("button", name=journey.t("Search"), exact=True).click()
    page.get_by_role("row").filter(has_text=sku).get_by_role("button", name=journey.t("Publish")).click()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_catalog_cap_then_channel_poster_and_scan(journey, full_range, locale):
    j = journey(locale)
    owner = j.person("owner")
    staff_login(owner, shop_data.OWNER)

    # The 30th item takes the last seat.
    owner.get_by_role("link", name=j.t("Curated catalog"), exact=True).click()
    owner.get_by_role("link", name=j.t("Main catalog")).click()
    expect(owner.get_by_role("heading", level=1)).to_contain_text(f"{CAP - 1} / {CAP}")
    publish(owner, j, "TEA-30")
    expect(owner.get_by_role("status").filter(has_text=j.t("Published."))).to_be_visible()
    expect(owner.get_by_role("heading", level=1)).to_contain_text(f"{CAP} / {CAP}")

    # The 31st is refused: the message names the cap and a weaker item to take out.
    publish(owner, j, "TEA-31")
    refusal = owner.get_by_role("status").filter(has_text=str(CAP))
    expect(refusal).to_have_class(re.compile("flash-error"))
    message = j.t("This catalog holds at most %(cap)d items and is full. Take one out first — "
                  "for example “%(title)s”, the weakest seller.", cap=CAP, title="TITLE")
    tea = r"春茶 \d\d 号" if locale == "zh_CN" else r"Spring tea no\. \d\d"
    expect(refusal).to_have_text(re.compile(re.escape(message).replace("TITLE", tea)))
    expect(owner.get_by_role("heading", level=1)).to_contain_text(f"{CAP} / {CAP}")
    j.shot(owner, "catalog-full-31st-refused", full_page=False)  # the message; the list is 30 rows long

    # A channel for the tea fair, its printable poster, its short URL.
    owner.get_by_role("link", name=j.t("Channels"), exact=True).click()
    owner.get_by_role("link", name=j.t("New channel")).click()
    owner.get_by_label(j.t("Channel name")).fill("春季茶博会 Tea fair")
    owner.get_by_label(j.t("Kind")).select_option("event")
    owner.get_by_role("button", name=j.t("Save")).click()
    expect(owner.get_by_role("status")).to_contain_text(j.t("Channel created. Print its code from this page."))
    expect(owner.locator(".qr svg")).to_be_visible()
    j.shot(owner, "channel-created")
    with owner.expect_download() as download:
        owner.get_by_role("link", name=j.t("Poster (SVG, printable)")).click()
    poster = j.folder / download.value.suggested_filename
    download.value.save_as(poster)
    text = poster.read_text(encoding="utf-8")
    assert text.startswith("<?xml") or text.startswith("<svg")
    assert "春季茶博会 Tea fair" in text and j.t("Scan to visit the shop") in text
    short_url = owner.get_by_text(re.compile(r"/q/\w+$")).first.inner_text()

    # A visitor scans it with their phone and lands in the shop.
    visitor = j.person("visitor")
    visitor.goto(short_url)
    expect(visitor).to_have_url(re.compile(r"/\?ch=\w+$"))
    expect(visitor.get_by_text("Spring tea no. 02" if locale == "en" else "春茶 02 号")).to_be_visible()
    j.shot(visitor, "visitor-after-scan")

    # The funnel counts the scan for this channel.
    owner.get_by_role("link", name=j.t("Channel funnel"), exact=True).click()
    row = owner.get_by_role("row").filter(has_text="Tea fair")
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")  # scans
    expect(row.get_by_role("cell").nth(2)).to_have_text("1")  # unique visitors
    j.shot(owner, "channel-funnel")
    j.assert_clean()
