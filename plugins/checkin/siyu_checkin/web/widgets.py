"""The dashboard widget: daily check-ins, the streak distribution and reachability."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from siyu.plugin.web import bar_chart, kernel
from siyu_checkin import clock, reminders, stats
from siyu_checkin.web.clock import now


def checkin_widget(session, staff) -> Markup:
    moment = now()
    today = clock.local_day(moment, clock.shop_zone(session))
    counts = stats.daily_counts(session, today, 14)
    streaks = stats.streak_distribution(session, today)
    return Markup(render_template(
        "checkin/admin/widget.html", today_count=counts[-1][1],
        daily_chart=bar_chart([(d.strftime("%m-%d"), n) for d, n in counts], height=80),
        streak_chart=bar_chart(streaks, height=80), streaks=streaks,
        reach=reminders.reachability(kernel(), session, moment)))
