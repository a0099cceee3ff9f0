"""Dashboard widgets: activity and repurchase, and members per level, as server-drawn SVG."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from siyu.plugin.web import bar_chart

from siyu_crm_tags import config, metrics


def activity_widget(session, staff) -> Markup:
    cfg = config.load(session)
    counts = metrics.activity_counts(session, cfg)
    repeat, buyers = metrics.repurchase(session)
    labels = {"active": _("Active"), "dormant": _("To re-activate"), "prospect": _("Never bought")}
    chart = bar_chart([(labels[k], v) for k, v in counts.items()], height=90)
    return Markup(render_template("crm_tags/widget_activity.html", counts=counts, labels=labels, chart=chart,
                                  repeat=repeat, buyers=buyers, days=cfg.dormant_days,
                                  rate=(repeat * 100 / buyers) if buyers else None))


def levels_widget(session, staff) -> Markup:
    rows = [(name or _("No level"), n) for name, n in metrics.level_distribution(session)]
    return Markup(render_template("crm_tags/widget_levels.html", rows=rows, chart=bar_chart(rows, height=90)))


def register_all(register) -> None:
    register("crm_activity", _l("Members: active and to re-activate"), activity_widget, role="owner", order=20)
    register("crm_levels", _l("Members per level"), levels_widget, role="owner", order=21)
