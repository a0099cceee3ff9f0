"""Back office: check-in overview — today, reachability thanks to check-in, reward delivery,
the monthly leaderboard and the latest check-ins (paginated)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from siyu.plugin import Member, write_transaction
from siyu.plugin.web import bar_chart, current_staff, db, kernel, require_csrf, staff_required
from siyu_checkin import clock, config, reminders, rewards, stats
from siyu_checkin.models import Checkin, CheckinReward
from siyu_checkin.web.clock import now

bp = Blueprint("checkin_admin", __name__, url_prefix="/admin/checkin", template_folder="../templates")
PAGE_SIZE = 30


@bp.get("")
@staff_required("agent")
def index():
    moment = now()
    zone = clock.shop_zone(db())
    today = clock.local_day(moment, zone)
    query = select(Checkin, Member).join(Member, Member.id == Checkin.member_id)
    total = db().scalar(select(func.count()).select_from(Checkin)) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    recent = db().execute(query.order_by(Checkin.at.desc(), Checkin.id.desc())
                          .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    delivery = dict(db().execute(select(CheckinReward.status, func.count()).group_by(CheckinReward.status)).all())
    counts = stats.daily_counts(db(), today, 14)
    return render_template(
        "checkin/admin/index.html", today=today, zone=zone.key, counts=counts,
        chart=bar_chart([(d.strftime("%m-%d"), n) for d, n in counts], height=90),
        reach=reminders.reachability(kernel(), db(), moment), due=reminders.next_due(kernel(), db(), moment),
        cfg=config.load(db()), delivery=delivery, ranks=stats.leaderboard(db(), clock.month_start(today)),
        recent=recent, page=page, pages=pages, total=total, staff=current_staff())


@bp.post("/rewards/retry")
@staff_required("owner")
def retry_rewards():
    require_csrf()
    with write_transaction(db()):
        delivered = rewards.retry(kernel(), db())
    flash(_("%(n)d rewards delivered.", n=delivered), "success")
    return redirect(url_for("checkin_admin.index"))
