"""Member pages: the check-in calendar with streak and make-up, the monthly leaderboard,
and the nav/account slots. Posts are CSRF-protected and rate limited."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from siyu.plugin import SiyuError, ValidationError
from siyu.plugin.web import db, kernel, limiter
from siyu_checkin import clock, config, rewards, service, stats
from siyu_checkin.models import CheckinMember
from siyu_checkin.text import outcome_dict, outcome_message
from siyu_checkin.web.clock import now

bp = Blueprint("checkin", __name__, template_folder="../templates", static_folder="../static",
               static_url_path="/checkin/static")
HISTORY_MONTHS = 12


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _today():
    zone = clock.shop_zone(db())
    return clock.local_day(now(), zone), zone


@bp.get("/checkin")
@login_required
def calendar():
    today, zone = _today()
    month = clock.parse_month(request.args.get("month"), today)
    oldest = clock.month_start(today - timedelta(days=31 * (HISTORY_MONTHS - 1)))
    month = min(max(month, oldest), clock.month_start(today))
    cfg = config.load(db())
    member_stats = db().get(CheckinMember, current_user.id)
    makeup_left = 0
    if cfg.makeup_per_month and month == clock.month_start(today):
        makeup_left = max(cfg.makeup_per_month - service.makeups_used(db(), current_user.id, today), 0)
    days = stats.month_days(db(), current_user.id, month, today, month if makeup_left else None)
    done_today = any(d.today and d.kind for d in days) or bool(
        member_stats and member_stats.last_date and member_stats.last_date >= today)
    schedule = [(day, rewards.planned(cfg, day)) for day in sorted(set(cfg.bonus_points) | set(cfg.bonus_coupons))]
    previous = clock.month_start(month - timedelta(days=1))
    following = clock.month_start(month + timedelta(days=31))
    return render_template(
        "checkin/calendar.html", weeks=stats.weeks(days), month=month, today=today, cfg=cfg,
        streak=service.streak_alive(member_stats, today, zone), best=member_stats.best_streak if member_stats else 0,
        total=member_stats.total if member_stats else 0, done_today=done_today, makeup_left=makeup_left,
        schedule=schedule, month_days=stats.month_count(db(), current_user.id, month),
        previous=previous if previous >= oldest else None,
        following=following if following <= clock.month_start(today) else None)


@bp.post("/checkin")
@login_required
@limiter.limit("10/minute")
def check_in():
    try:
        outcome = service.check_in(kernel(), db(), current_user, now=now())
    except SiyuError as exc:
        if _wants_json():
            raise
        flash(str(exc.message), "error")
        return redirect(url_for("checkin.calendar"))
    if _wants_json():
        return jsonify(outcome_dict(outcome)), 201 if outcome.status == service.CHECKED_IN else 200
    flash(outcome_message(outcome), "success" if outcome.status == service.CHECKED_IN else "warning")
    return redirect(url_for("checkin.calendar"))


@bp.post("/checkin/makeup")
@login_required
@limiter.limit("10/minute")
def make_up():
    try:
        day = date.fromisoformat(request.form.get("day") or (request.get_json(silent=True) or {}).get("day") or "")
    except (TypeError, ValueError):
        day = None
    try:
        if day is None:
            raise ValidationError(_("Choose a day."), fields={"day": _("Not a date.")})
        outcome = service.make_up(kernel(), db(), current_user, day, now=now())
    except SiyuError as exc:
        if _wants_json():
            raise
        flash(str(exc.message), "error")
        return redirect(url_for("checkin.calendar"))
    message = _("Made up %(day)s. Streak: %(n)d days.", day=day.isoformat(), n=outcome.streak)
    if _wants_json():
        return jsonify(status="made_up", local_date=day.isoformat(), streak=outcome.streak, message=message), 201
    flash(message, "success")
    return redirect(url_for("checkin.calendar"))


@bp.get("/checkin/leaderboard")
@login_required
def leaderboard():
    today, _zone = _today()
    month = clock.month_start(today)
    ranks = stats.leaderboard(db(), month)
    mine = next((r for r in ranks if r.member_id == current_user.id), None)
    return render_template("checkin/leaderboard.html", ranks=ranks, month=month, mine=mine,
                           my_days=stats.month_count(db(), current_user.id, month))


def slot(name: str, context) -> Markup | None:
    """The streak on the account page (the nav link and stylesheet are registered at start-up)."""
    if name == "account_panel" and current_user.is_authenticated:
        today, zone = _today()
        streak = service.streak_alive(db().get(CheckinMember, current_user.id), today, zone)
        return Markup(render_template("checkin/_panel.html", streak=streak))
    return None
