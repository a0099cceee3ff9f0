"""Back office: the training center's lessons (Markdown), created and edited by the owner."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from siyu.plugin import ValidationError
from siyu.plugin.web import db, staff_required

from siyu_distribution import training
from siyu_distribution.views.blueprints import admin_bp


@admin_bp.get("/lessons")
@staff_required("owner")
def lessons():
    return render_template("distribution/admin/lessons.html", lessons=training.lessons(db(), published_only=False))


@admin_bp.route("/lessons/new", methods=["GET", "POST"], defaults={"lesson_id": None})
@admin_bp.route("/lessons/<int:lesson_id>", methods=["GET", "POST"])
@staff_required("owner")
def lesson(lesson_id: int | None):
    item = training.lesson(db(), lesson_id, published_only=False) if lesson_id else None
    errors, status = {}, 200
    if request.method == "POST":
        form = request.form
        try:
            item = training.save_lesson(
                db(), lesson_id, title=form.get("title", ""), body=form.get("body", ""),
                position=form.get("position", 0, type=int) if form.get("position", "0").lstrip("-").isdigit() else None,
                required=bool(form.get("required")), published=bool(form.get("published")))
        except ValidationError as exc:
            errors, status = exc.fields, 422
            flash(str(exc.message), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("distribution_admin.lessons"))
    preview = training.render(item.body) if item is not None else None
    return render_template("distribution/admin/lesson_form.html", lesson=item, errors=errors,
                           form=request.form if request.method == "POST" else None, preview=preview), status


@admin_bp.post("/lessons/<int:lesson_id>/delete")
@staff_required("owner")
def delete_lesson(lesson_id: int):
    training.delete_lesson(db(), lesson_id)
    flash(_("Lesson deleted."), "success")
    return redirect(url_for("distribution_admin.lessons"))
