"""Steps several journeys share: signing in and up, paying with localstripe's test card."""
from __future__ import annotations

from playwright.sync_api import expect

from browser.shop_data import PASSWORD


def staff_login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login")
    expect(page.locator("input[name=password]")).to_have_attribute("type", "password")  # never shown
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button.primary").click()
    expect(page).not_to_have_url("**/admin/login**")


def member_login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/account/login")
    expect(page.locator("input[name=password]")).to_have_attribute("type", "password")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button.primary").click()
    expect(page).not_to_have_url("**/account/login**")


def sign_up(page, journey, email: str, name: str, password: str = PASSWORD) -> None:
    """From the login page a protected page sent us to: create the account, come back."""
    page.get_by_role("link", name=journey.t("Create an account")).click()
    page.get_by_label(journey.t("Name")).fill(name)
    page.get_by_label(journey.t("Email")).fill(email)
    password_box = page.get_by_label(journey.t("Password (at least 8 characters)"))
    expect(password_box).to_have_attribute("type", "password")
    password_box.fill(password)
    page.get_by_role("button", name=journey.t("Sign up")).click()


def add_address(page, journey) -> None:
    """The address book's form: province, then city, then district, filled as one picks."""
    page.goto("/account/addresses/new")
    expect(page.get_by_role("button", name=journey.t("Update choices"))).to_be_hidden()  # JS does it
    page.get_by_label(journey.t("Recipient")).fill("王美美")
    page.get_by_label(journey.t("Mobile phone")).fill("139 1234 5678")
    page.get_by_label(journey.t("Province")).select_option(label="浙江省")
    expect(page.get_by_label(journey.t("City")).locator("option", has_text="杭州市")).to_have_count(1)
    page.get_by_label(journey.t("City")).select_option(label="杭州市")
    expect(page.get_by_label(journey.t("District")).locator("option", has_text="西湖区")).to_have_count(1)
    page.get_by_label(journey.t("District")).select_option(label="西湖区")
    page.get_by_label(journey.t("Street, building and room")).fill("龙井路 1 号")
    journey.shot(page, "address-form")
    page.get_by_role("button", name=journey.t("Save address")).click()
    expect(page.get_by_text("浙江省 杭州市 西湖区 龙井路 1 号")).to_be_visible()


def pay_by_card(page, journey, number: str = "4242424242424242") -> None:
    """localstripe's fake Card Element: plain inputs named by their placeholders."""
    card = page.locator("#card-element")
    expect(card.locator("input")).to_have_count(5)
    for field, value in (("number", number), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123"),
                         ("postal_code", "200000")):
        card.get_by_placeholder(field, exact=True).fill(value)
    journey.shot(page, "pay-by-card")
    page.get_by_role("button", name=journey.t("Pay now")).click()


def offers_the_other_language(page, journey) -> None:
    """The header's switcher offers the other language, never the one on screen."""
    names = {"zh_CN": "中文", "en": "English"}
    other = "en" if journey.locale == "zh_CN" else "zh_CN"
    expect(page.locator("header").get_by_role("link", name=names[other], exact=True)).to_be_visible()
    expect(page.locator("header").get_by_role("link", name=names[journey.locale], exact=True)).to_have_count(0)
