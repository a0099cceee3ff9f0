"""Back office: segments — a builder with a live count, member lists, CSV export, broadcast."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select

from siyu.plugin import create_broadcast, ValidationError, write_transaction
from siyu.plugin.web import current_staff, db, kernel, staff_required

from siyu_crm_tags import config, segments
from siyu_crm_tags import stats as stats_mod
from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import MemberStats, Segment
from siyu_crm_tags.web.admin import bp, guarded

PER_PAGE = 50


def _definition(source) -> dict:
    return segments.clean({key: source.getlist(key) for key in segments.INT_KEYS + segments.STR_KEYS})


def _choices() -> dict:
    session = db()
    cfg = config.load(session)
    return {
        "grouped": tags_mod.all_tags(session), "levels": stats_mod.levels(session),
        "r_bands": range(len(cfg.recency_days) + 2), "f_bands": range(len(cfg.frequency_orders) + 1),
        "m_bands": range(len(cfg.monetary_spend) + 1), "activities": segments.ACTIVITIES,
        "channels": list(session.scalars(select(MemberStats.channel).where(MemberStats.channel.is_not(None))
                                         .distinct().order_by(MemberStats.channel).limit(200))),
        "distributors": list(session.scalars(select(MemberStats.distributor)
                                             .where(MemberStats.distributor.is_not(None))
                                             .distinct().order_by(MemberStats.distributor).limit(200))),
    }


def _segment(segment_id: int) -> Segment:
    segment = db().get(Segment, segment_id) if 0 < segment_id < 2**31 else None
    if segment is None:
        abort(404)
    return segment


@bp.get("/segments", endpoint="segments")
@staff_required("agent")
def segments_index():
    cfg = config.load(db())
    rows = [(s, segments.count(db(), s.definition, cfg))
            for s in db().scalars(select(Segment).order_by(Segment.name))]
    return render_template("crm_tags/segments.html", rows=rows, missing=segments.missing_stats(db()))


@bp.get("/segments/new")
@staff_required("owner")
def segment_new():
    """The builder: the form submits to itself (GET) to show the live count, then saves."""
    try:
        definition = _definition(request.args)
    except ValidationError as exc:
        flash(str(exc.message), "error")
        definition = {}
    live = segments.count(db(), definition, config.load(db())) if request.args else None
    return render_template("crm_tags/segment_form.html", definition=definition, live=live,
                           name=request.args.get("name", ""), segment=None, **_choices())


@bp.get("/segments/<int:segment_id>/edit")
@staff_required("owner")
def segment_edit(segment_id: int):
    segment = _segment(segment_id)
    definition = _definition(request.args) if request.args.get("preview") else segment.definition
    live = segments.count(db(), definition, config.load(db()))
    return render_template("crm_tags/segment_form.html", definition=definition, live=live,
                           name=request.args.get("name", segment.name), segment=segment, **_choices())


@bp.post("/segments")
@staff_required("owner")
@guarded("crm.segment_new")
def segment_save():
    segment_id = request.form.get("segment_id", "")
    segment = segments.save(db(), request.form.get("name", ""), _definition(request.form),
                            int(segment_id) if segment_id.isdigit() else None)
    flash(_("Segment %(name)s saved.", name=segment.name), "success")
    return redirect(url_for("crm.segment_detail", segment_id=segment.id))


@bp.get("/segments/<int:segment_id>")
@staff_required("agent")
def segment_detail(segment_id: int):
    segment = _segment(segment_id)
    cfg = config.load(db())
    total = segments.count(db(), segment.definition, cfg)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    page_no = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = segments.page(db(), segment.definition, cfg, page_no, PER_PAGE)
    return render_template("crm_tags/segment.html", segment=segment, total=total, rows=rows, page=page_no,
                           pages=pages, can_broadcast=True,
                           level_names={lv.id: lv.name for lv in stats_mod.levels(db())})


@bp.get("/segments/<int:segment_id>/export.csv")
@staff_required("owner")
def segment_export(segment_id: int):
    segment = _segment(segment_id)
    cfg = config.load(db())
    level_names = {lv.id: lv.name for lv in stats_mod.levels(db())}

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["member_id", "email", "name", "level", "points", "orders", "spend",
                         "last_order_at", "channel", "distributor"])
        for batch in segments.batches(db(), segment.definition, cfg):
            for member, stats in batch:
                writer.writerow([member.id, member.email, _safe(member.name), level_names.get(stats.level_id, ""),
                                 stats.points, stats.orders_count, stats.spend,
                                 stats.last_order_at.isoformat() if stats.last_order_at else "",
                                 _safe(stats.channel or ""), _safe(stats.distributor or "")])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=segment-{segment.id}.csv", "Cache-Control": "no-store"})


def _safe(text: str) -> str:
    """No spreadsheet formulas from member-supplied text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.post("/segments/<int:segment_id>/delete")
@staff_required("owner")
def segment_delete(segment_id: int):
    with write_transaction(db()):
        db().execute(delete(Segment).where(Segment.id == segment_id))
    flash(_("Segment deleted."), "success")
    return redirect(url_for("crm.segments"))


@bp.post("/segments/<int:segment_id>/broadcast")
@staff_required("owner")
@guarded("crm.segment_detail")
def segment_broadcast(segment_id: int):
    segment = _segment(segment_id)
    broadcast = create_broadcast(kernel(), db(), current_staff(), audience=f"crm_tags:segment:{segment.id}",
                                        text=request.form.get("text", ""))
    flash(_("Broadcast queued for %(name)s: members outside their messaging window are skipped and counted.",
            name=segment.name), "success")
    return redirect(url_for("crm.segment_detail", segment_id=segment.id, broadcast=broadcast.id))
