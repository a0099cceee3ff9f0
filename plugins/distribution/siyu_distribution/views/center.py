"""The distributor center (mobile): links and posters, clicks, orders, commission, team,
training, payouts. Every page reads only the signed-in member's own distributor."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from siyu.plugin import parse_major, ValidationError
from siyu.plugin.web import bar_chart, db, shop_settings

from siyu_distribution import config, distributors, ledger, payouts, poster, reports, training
from siyu_distribution.models import Link, Payout, Status
from siyu_distribution.views.blueprints import bp

PAGE_SIZE = 20


def _me():
    return distributors.for_member(db(), current_user.id)


def _approved():
    me = _me()
    if me is None or me.status != Status.APPROVED.value:
        abort(404)
    return me


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


@bp.get("/distribution/")
@login_required
def center():
    me = _me()
    done, required = training.progress(db(), me.id) if me else (0, 0)
    if me is None or me.status != Status.APPROVED.value:
        return render_template("distribution/status.html", me=me, done=done, required=required,
                               settings=config.load(db()))
    now = datetime.now(timezone.utc)
    since = (now - timedelta(days=30)).date()
    series = reports.daily_earnings(db(), me.id, 30, now)
    return render_template(
        "distribution/center.html", me=me, balances=ledger.balances(db(), me.id),
        links=reports.links(db(), me.id), clicks=reports.clicks_per_link(db(), me.id, since),
        clicks_total=reports.clicks_since(db(), me.id, since), orders=reports.attributed_count(db(), me.id),
        team_size=distributors.team_size(db(), me.id), done=done, required=required,
        chart=bar_chart([(d.strftime("%m-%d"), v) for d, v in series]), settings=config.load(db()),
        payouts=db().scalars(select(Payout).where(Payout.distributor_id == me.id)
                             .order_by(Payout.id.desc()).limit(5)).all())


@bp.route("/distribution/apply", methods=["GET", "POST"])
@login_required
def apply():
    invite = request.values.get("invite", "")[:24]
    if request.method == "POST":
        distributors.apply(db(), current_user, motivation=request.form.get("motivation", ""),
                           display_name=request.form.get("display_name", ""), invite_code=invite)
        flash(_("Thank you! The shop will review your application."), "success")
        return redirect(url_for("distribution.center"))
    me = _me()
    if me is not None and me.status != Status.REJECTED.value:
        return redirect(url_for("distribution.center"))
    inviter = distributors.approved_link(db(), invite)
    return render_template("distribution/apply.html", invite=invite if inviter else "", me=me)


@bp.get("/distribution/training")
@login_required
def lessons():
    me = _me()
    if me is None:
        return redirect(url_for("distribution.apply"))
    return render_template("distribution/training.html", lessons=training.lessons(db()),
                           completed=training.completed_ids(db(), me.id))


@bp.get("/distribution/training/<int:lesson_id>")
@login_required
def lesson(lesson_id: int):
    me = _me()
    if me is None:
        return redirect(url_for("distribution.apply"))
    item = training.lesson(db(), lesson_id)
    return render_template("distribution/lesson.html", lesson=item, body=training.render(item.body),
                           completed=lesson_id in training.completed_ids(db(), me.id))


@bp.post("/distribution/training/<int:lesson_id>/complete")
@login_required
def complete(lesson_id: int):
    me = _me()
    if me is None:
        abort(404)
    training.complete(db(), me.id, lesson_id)
    flash(_("Lesson completed."), "success")
    return redirect(url_for("distribution.lessons"))


@bp.post("/distribution/links")
@login_required
def new_link():
    distributors.create_link(db(), _approved(), request.form.get("label", ""), request.form.get("target", "/"))
    flash(_("Your new link is ready."), "success")
    return redirect(url_for("distribution.center"))


def _own_link(link_id: int) -> Link:
    link = db().get(Link, link_id)
    if link is None or link.distributor_id != _approved().id:
        abort(404)  # another distributor's link does not exist for you
    return link


@bp.get("/distribution/links/<int:link_id>/poster.svg")
@login_required
def poster_svg(link_id: int):
    link = _own_link(link_id)
    me = _me()
    url = url_for("distribution.follow", code=link.code, _external=True)
    svg = poster.poster_svg(url, link.code, shop_settings().get("shop_name", ""),
                            me.display_name or "", _("Scan to visit the shop"),
                            _("Recommended by %(name)s", name=me.display_name or _("a friend")))
    response = Response(svg, mimetype="image/svg+xml")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="poster-{link.code}.svg"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/distribution/orders")
@login_required
def orders():
    me = _approved()
    page = _page()
    total = reports.attributed_count(db(), me.id)
    rows = reports.attributed_orders(db(), me.id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template("distribution/orders.html", rows=rows, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


@bp.get("/distribution/commission")
@login_required
def commission():
    me = _approved()
    page = _page()
    total = reports.entry_count(db(), me.id)
    return render_template("distribution/commission.html", entries=reports.entries(db(), me.id, PAGE_SIZE,
                                                                                       (page - 1) * PAGE_SIZE),
                           balances=ledger.balances(db(), me.id), page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


@bp.get("/distribution/team")
@login_required
def team():
    me = _approved()
    page = _page()
    total = distributors.team_size(db(), me.id)
    invite = reports.links(db(), me.id)
    return render_template("distribution/team.html", members=distributors.team(db(), me.id, PAGE_SIZE,
                                                                               (page - 1) * PAGE_SIZE),
                           page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), total=total,
                           invite=invite[0].code if invite else None)


@bp.post("/distribution/payouts")
@login_required
def request_payout():
    me = _approved()
    currency = shop_settings().get("currency", "CNY")
    try:
        amount = parse_major(request.form.get("amount", ""), currency)
    except (ValueError, ArithmeticError):
        raise ValidationError(_("Enter an amount such as 50.00."), fields={"amount": _("not a number")})
    payouts.request_payout(db(), me.id, amount, currency)
    flash(_("Withdrawal requested. The shop will transfer it after approval."), "success")
    return redirect(url_for("distribution.center"))


@bp.get("/distribution/statement.csv")
@login_required
def statement():
    me = _approved()
    body = payouts.statement_csv(payouts.statement_entries(db(), me.id))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="commission-statement.csv"'})
