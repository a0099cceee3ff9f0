"""Back office: applications, distributors, leaderboard and the team tree (owner only)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from siyu.plugin import Member, NotFound, ValidationError
from siyu.plugin.web import db, staff_required

from siyu_distribution import attribution, distributors, ledger, reports, training
from siyu_distribution.models import Binding, Distributor, Payout, PayoutStatus, Status
from siyu_distribution.views.blueprints import admin_bp

PAGE_SIZE = 30
ACTIONS = {"approve", "reject", "suspend", "reinstate"}


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


@admin_bp.get("/", endpoint="distributors")
@staff_required("owner")
def distributors_list():
    status = request.args.get("status") or Status.APPLIED.value
    if status not in {s.value for s in Status}:
        status = Status.APPLIED.value
    page = _page()
    base = select(Distributor, Member).join(Member, Member.id == Distributor.member_id) \
        .where(Distributor.status == status)
    total = db().scalar(select(func.count()).select_from(base.subquery()))
    rows = db().execute(base.order_by(Distributor.applied_at.desc(), Distributor.id.desc())
                        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("distribution/admin/distributors.html", rows=rows, status=status,
                           counts=reports.counts_by_status(db()), page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


@admin_bp.get("/d/<int:distributor_id>")
@staff_required("owner")
def distributor(distributor_id: int):
    row = db().get(Distributor, distributor_id)
    if row is None:
        raise NotFound(_("Distributor not found."))
    done, required = training.progress(db(), row.id)
    recruiter = db().get(Distributor, row.recruiter_id) if row.recruiter_id else None
    return render_template("distribution/admin/distributor.html", d=row, member=db().get(Member, row.member_id),
                           recruiter=recruiter, balances=ledger.balances(db(), row.id), done=done,
                           required=required, team_size=distributors.team_size(db(), row.id),
                           links=reports.links(db(), row.id), orders=reports.attributed_count(db(), row.id),
                           entries=reports.entries(db(), row.id, 20, 0))


@admin_bp.post("/d/<int:distributor_id>/<action>")
@staff_required("owner")
def decide(distributor_id: int, action: str):
    reason = request.form.get("reason", "")
    if action == "approve":
        distributors.approve(db(), distributor_id)
    elif action == "reject":
        distributors.reject(db(), distributor_id, reason)
    elif action == "suspend":
        distributors.suspend(db(), distributor_id, reason)
    elif action == "reinstate":
        distributors.reinstate(db(), distributor_id)
    elif action == "level":
        distributors.set_level(db(), distributor_id, request.form.get("level", type=int))
    elif action == "recruiter":
        raw = (request.form.get("recruiter") or "").strip()
        if raw and not raw.isdigit():
            raise ValidationError(_("Enter a distributor number."), fields={"recruiter": _("a number")})
        distributors.set_recruiter(db(), distributor_id, int(raw) if raw else None)
    else:
        raise NotFound(_("Unknown action."))
    flash(_("Saved."), "success")
    return redirect(url_for("distribution_admin.distributor", distributor_id=distributor_id))


@admin_bp.get("/leaderboard")
@staff_required("owner")
def leaderboard():
    period = request.args.get("period", "30")
    since = None if period == "all" else datetime.now(timezone.utc) - timedelta(days=30)
    return render_template("distribution/admin/leaderboard.html", rows=reports.leaderboard(db(), since),
                           period="all" if since is None else "30")


@admin_bp.get("/tree")
@staff_required("owner")
def tree():
    """One level of the tree at a time: the roots, or a distributor's direct recruits."""
    root_id = request.args.get("root", type=int)
    root = db().get(Distributor, root_id) if root_id else None
    page = _page()
    parent = Distributor.recruiter_id == root.id if root else Distributor.recruiter_id.is_(None)
    children = db().scalars(select(Distributor).where(parent, Distributor.status != Status.REJECTED.value)
                            .order_by(Distributor.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    sizes = dict(db().execute(select(Distributor.recruiter_id, func.count(Distributor.id))
                              .where(Distributor.recruiter_id.in_([c.id for c in children]))
                              .group_by(Distributor.recruiter_id)).all()) if children else {}
    path = list(reversed(distributors.upline_ids(db(), root.id, 50))) if root else []
    return render_template("distribution/admin/tree.html", root=root, children=children, sizes=sizes,
                           path=[db().get(Distributor, i) for i in path], page=page)


def dashboard_widget(session, staff):
    counts = reports.counts_by_status(session)
    requested = session.scalar(select(func.count(Payout.id)).where(
        Payout.status.in_((PayoutStatus.REQUESTED.value, PayoutStatus.APPROVED.value)))) or 0
    return Markup('<p><a href="{}">{}</a> · {} · <a href="{}">{}</a></p>').format(
        url_for("distribution_admin.distributors"), _("%(n)d applications to review", n=counts["applied"]),
        _("%(n)d active distributors", n=counts["approved"]),
        url_for("distribution_admin.payouts"), _("%(n)d withdrawals to handle", n=requested))


def member_panel(member, session, staff):
    binding = session.get(Binding, member.id)
    own = distributors.for_member(session, member.id)
    if binding is None and own is None:
        return None
    parts = []
    if binding is not None:
        seller = session.get(Distributor, binding.distributor_id)
        active = attribution.active_distributor(binding, datetime.now(timezone.utc)) is not None
        parts.append(Markup('<p>{} <a href="{}">{}</a>{}</p>').format(
            _("Bound to distributor"), url_for("distribution_admin.distributor", distributor_id=seller.id),
            seller.display_name or f"#{seller.id}", "" if active else Markup(" ({})").format(_("expired"))))
    if own is not None:
        parts.append(Markup('<p><a href="{}">{}</a></p>').format(
            url_for("distribution_admin.distributor", distributor_id=own.id), _("This member is a distributor")))
    return Markup("").join(parts)
