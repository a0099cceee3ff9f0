"""Journey 2: a member checks in two days running (the check-in plugin's test clock moves the
shop's day), sees the streak and the points, and the agent sees the contact window renewed.

The shop's chat here runs inside a messaging app that, like a WeChat official account, lets
the shop write only within 48 hours of the member's last interaction: a stand-in channel
adapter declares that policy for the web chat. A check-in is such an interaction.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from siyu.core import hookimpl
from siyu.core.channels import WEB, WECHAT_STYLE, Channel
from siyu.core.models import Conversation

expect = pytest.importorskip("playwright.sync_api").expect
pytest.importorskip("siyu_checkin")  # the journeys need the bundled plugins installed
pytest.importorskip("siyu_crm_tags")

from browser import shop_data  # noqa: E402
from browser.steps import member_login, staff_login  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.stripe]


class InAppChat:
    """Stands in for a messaging-app adapter: the web chat with a 48-hour contact window."""

    @hookimpl
    def register_channels(self, register):
        register(Channel(name=WEB, label="In-app chat (48 h)", policy=WECHAT_STYLE))


@pytest.fixture
def siyu_plugins():
    return [InAppChat()]


def reachable_until(journey, moment: datetime) -> str:
    """What the inbox shows for a window closing at ``moment`` (shop time, short format)."""
    from flask_babel import format_datetime

    with journey.app.test_request_context(headers={"Accept-Language": "zh-CN" if journey.locale == "zh_CN" else "en"}):
        return journey.t("reachable until %(when)s", when=format_datetime(moment, "short"))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_two_days_of_check_in_renew_the_contact_window(journey, app, kernel, db, locale):
    shop_data.staff(db, "agent")
    mei = shop_data.member(kernel, db, "mei@example.cn", "美美 Mei", locale)
    j = journey(locale)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    yesterday = now - timedelta(days=1)

    # Day 1: the member checks in from the nav link.
    app.config["CHECKIN_NOW"] = yesterday.isoformat()
    member = j.person("member")
    member_login(member, "mei@example.cn")
    member.get_by_role("link", name=j.t("Check in"), exact=True).click()
    expect(member.get_by_role("heading", name=j.t("Daily check-in"))).to_be_visible()
    member.get_by_role("button", name=re.compile(re.escape(j.t("Check in today")))).click()
    expect(member.get_by_role("status")).to_contain_text(j.t("Checked in! Streak: %(n)d days.", n=1))
    expect(member.get_by_role("status")).to_contain_text(j.t("+%(n)d points.", n=5))
    j.shot(member, "day1-checked-in")

    # The agent sees the window closing within a day: the member must be reminded soon.
    agent = j.person("agent")
    staff_login(agent, shop_data.AGENT)
    agent.goto("/admin/inbox")
    agent.get_by_role("link", name=j.t("Windows closing soon")).click()
    agent.get_by_label(j.t("Closing within (hours)")).fill("25")
    agent.get_by_role("button", name=j.t("Show")).click()
    closing = agent.get_by_role("link", name=re.compile("美美 Mei"))
    expect(closing).to_contain_text("In-app chat (48 h)")  # the channel by its name
    expect(closing).to_contain_text(reachable_until(j, yesterday + timedelta(hours=48)))
    j.shot(agent, "day1-window-closing-soon")

    # Day 2: the next shop day, the streak goes on and the reward is shown.
    app.config["CHECKIN_NOW"] = now.isoformat()
    member.reload()
    member.get_by_role("button", name=re.compile(re.escape(j.t("Check in today")))).click()
    expect(member.get_by_role("status")).to_contain_text(j.t("Checked in! Streak: %(n)d days.", n=2))
    expect(member.get_by_role("status")).to_contain_text(j.t("+%(n)d points.", n=5))
    expect(member.locator(".checkin-big")).to_have_text("2")
    expect(member.get_by_text(j.t("Checked in today. See you tomorrow!"))).to_be_visible()
    j.shot(member, "day2-streak-2")
    member.goto("/account/member-card")
    expect(member.locator(".member-card")).to_contain_text(re.compile(re.escape(j.t("Points")) + r"\W+10"))
    j.shot(member, "day2-points")

    # The agent: no longer closing soon; the thread shows the window renewed to day 2 + 48 h.
    agent.reload()
    expect(agent.get_by_text(j.t("No window closes in the next %(n)d hours.", n=25))).to_be_visible()
    conversation = db.scalar(select(Conversation).where(Conversation.member_id == mei.id))
    agent.goto(f"/admin/inbox/{conversation.id}")
    reach = agent.locator("aside li").filter(has_text="In-app chat")
    expect(reach).to_contain_text(reachable_until(j, now + timedelta(hours=48)))
    j.shot(agent, "day2-window-renewed")
    app.config.pop("CHECKIN_NOW")
    j.assert_clean()
