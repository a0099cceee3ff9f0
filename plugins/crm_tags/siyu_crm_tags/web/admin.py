"""Back office: tags and groups, tagging a member, levels, the recompute job, data rights."""
from __future__ import annotations

import json
import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from siyu.plugin import anonymise_member as anonymise, export_member as export, settings, Member, name_problem, NotFound, SiyuError, to_int, ValidationError, write_transaction
from siyu.plugin.web import current_staff, db, invalidate_settings, kernel, staff_required

from siyu_crm_tags import recompute, rules, segments
from siyu_crm_tags import stats as stats_mod
from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import Level

bp = Blueprint("crm", "siyu_crm_tags", template_folder="templates")
MENU = [("crm.tags", _l("Tags"), "agent", 40), ("crm.segments", _l("Segments"), "agent", 41),
        ("crm.levels", _l("Levels"), "owner", 42)]
SKU = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def back(default: str):
    """Back to where the form was (only a local path), else ``default``."""
    target = request.form.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)


def guarded(fallback_endpoint: str):
    """POST views: a domain error is flashed and the page shown again, never a 500."""
    def decorator(view):
        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except SiyuError as exc:
                db().rollback()
                detail = "; ".join(f"{v}" for v in exc.fields.values())
                flash(f"{exc.message} {detail}".strip(), "error")
                return back(url_for(fallback_endpoint, **kwargs))
        wrapped.__name__ = view.__name__
        return wrapped
    return decorator


def _int(name: str, required: bool = True) -> int | None:
    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    value = to_int(raw, 0)
    if value is None:
        raise ValidationError(_("Some fields are not valid."), fields={name: _("a whole number")})
    return value


# ------------------------------------------------------------------------ tags


@bp.get("/tags")
@staff_required("agent")
def tags():
    return render_template("crm_tags/tags.html", grouped=tags_mod.all_tags(db()), counts=tags_mod.counts(db()),
                           kinds=rules.KINDS, describe=rules.describe, job=recompute.latest(db()))


@bp.post("/groups")
@staff_required("owner")
@guarded("crm.tags")
def create_group():
    group = tags_mod.create_group(db(), request.form.get("name", ""))
    flash(_("Group %(name)s created.", name=group.name), "success")
    return redirect(url_for("crm.tags"))


@bp.post("/tags")
@staff_required("owner")
@guarded("crm.tags")
def create_tag():
    rule = tags_mod.parse_rule(request.form)
    tag = tags_mod.create_tag(db(), request.form.get("name", ""), _int("group_id", required=False), rule)
    if rule:
        _start_recompute()
        flash(_("Rule tag %(name)s created; members are being tagged in the background.", name=tag.name), "success")
    else:
        flash(_("Tag %(name)s created.", name=tag.name), "success")
    return redirect(url_for("crm.tags"))


@bp.post("/tags/<int:tag_id>/delete")
@staff_required("owner")
def delete_tag(tag_id: int):
    tags_mod.delete_tag(db(), tag_id)
    flash(_("Tag deleted."), "success")
    return redirect(url_for("crm.tags"))


# -------------------------------------------------------------- member tagging


@bp.post("/members/<int:member_id>/tags")
@staff_required("agent")
@guarded("admin_members.detail")
def tag_member(member_id: int):
    if tags_mod.tag_member(db(), member_id, _int("tag_id"), current_staff().id):
        flash(_("Tag added."), "success")
    return back(url_for("admin_members.detail", member_id=member_id))


@bp.post("/members/<int:member_id>/tags/<int:tag_id>/remove")
@staff_required("agent")
@guarded("admin_members.detail")
def untag_member(member_id: int, tag_id: int):
    if tags_mod.untag_member(db(), member_id, tag_id):
        flash(_("Tag removed."), "success")
    return back(url_for("admin_members.detail", member_id=member_id))


@bp.get("/members/<int:member_id>/export.json")
@staff_required("owner")
def export_member(member_id: int):
    data = export(kernel(), db(), member_id)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=member-{member_id}.json", "Cache-Control": "no-store"})


@bp.post("/members/<int:member_id>/anonymise")
@staff_required("owner")
@guarded("admin_members.detail")
def anonymise_member(member_id: int):
    if request.form.get("confirm") != "yes":
        raise ValidationError(_("Tick the box to confirm the anonymisation."), fields={"confirm": _("required")})
    if db().get(Member, member_id) is None:
        raise NotFound(_("Member not found."))
    anonymise(kernel(), db(), member_id)
    flash(_("The member was anonymised; orders and points records are kept under the same id."), "success")
    return back(url_for("admin_members.detail", member_id=member_id))


# ---------------------------------------------------------------------- levels


@bp.get("/levels")
@staff_required("owner")
def levels():
    return render_template("crm_tags/levels.html", levels=stats_mod.levels(db()))


@bp.post("/levels")
@staff_required("owner")
@guarded("crm.levels")
def create_level():
    name = " ".join((request.form.get("name") or "").split())
    percent = _int("price_percent")
    threshold = _int("threshold")
    skus = [s for s in re.split(r"[\s,]+", request.form.get("exclusive_skus", "")) if s]
    errors = {}
    if not 1 <= len(name) <= 60:
        errors["name"] = _("1 to 60 characters")
    elif name_problem(name):
        errors["name"] = name_problem(name)
    if not 50 <= percent <= 100:
        errors["price_percent"] = _("between 50 and 100")
    if len(skus) > 100 or not all(SKU.match(s) for s in skus):
        errors["exclusive_skus"] = _("SKUs separated by commas")
    if errors:
        raise ValidationError(_("Please correct the highlighted fields."), fields=errors)
    with write_transaction(db()):
        if db().scalar(select(Level.id).where(or_(Level.name == name, Level.threshold == threshold))):
            raise ValidationError(_("A level with this name or threshold exists."), fields={"name": _("taken")})
        db().add(Level(name=name, threshold=threshold, price_percent=percent, exclusive_skus=skus,
                       benefits=(request.form.get("benefits") or "").strip()[:500]))
        settings.bump_catalog_revision(db())  # product pages show a level's exclusive badge
    invalidate_settings()
    _start_recompute()
    flash(_("Level saved; members are being placed in the background."), "success")
    return redirect(url_for("crm.levels"))


@bp.post("/levels/<int:level_id>/delete")
@staff_required("owner")
def delete_level(level_id: int):
    with write_transaction(db()):
        level = db().get(Level, level_id)
        if level is not None:
            db().delete(level)
            settings.bump_catalog_revision(db())
    invalidate_settings()
    _start_recompute()
    flash(_("Level deleted."), "success")
    return redirect(url_for("crm.levels"))


# ------------------------------------------------------------------ recompute


def _start_recompute():
    job = recompute.queue(db())
    try:
        from siyu.plugin import jobs

        jobs.enqueue(kernel(), "crm_tags.recompute")
    except (ImportError, LookupError):
        pass  # no task queue: `flask siyu crm recompute` runs the queued job
    return job


@bp.get("/recompute")
@staff_required("agent")
def recompute_status():
    return render_template("crm_tags/recompute.html", job=recompute.latest(db()),
                           missing=segments.missing_stats(db()))


@bp.post("/recompute")
@staff_required("owner")
def start_recompute():
    _start_recompute()
    flash(_("The recompute is queued."), "success")
    return redirect(url_for("crm.recompute_status"))


from siyu_crm_tags.web import segments_admin  # noqa: E402,F401 - its views join this blueprint
