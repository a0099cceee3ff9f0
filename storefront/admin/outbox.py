"""Back office: follow-up work (the outbox, ``siyu.core.outbox``), for owners.

What plugins and the core do after a change commits (statistics, tags, notices) normally runs
at once and is never seen here. Work whose attempts ran out is listed as failed, with its
error, and waits for a retry; waiting work (a retry's backoff, a plugin that is disabled) is
listed too.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from siyu.core.db import write_transaction
from siyu.core.models import Order
from siyu.core.models.outbox import FAILED, PENDING, OutboxEntry
from siyu.core.outbox import counts, retry as retry_entry, tasks
from siyu.storefront.admin import staff_required
from siyu.storefront.admin.common import MAX_ID, paginate, require_csrf
from siyu.storefront.context import db, kernel

bp = Blueprint("admin_outbox", __name__, url_prefix="/admin/outbox")
TITLE = _l("Follow-up work")
STATES = (FAILED, PENDING)


@bp.get("")
@staff_required("owner")
def index():
    state = request.args.get("state", FAILED)
    if state not in STATES:
        state = FAILED
    result = paginate(select(OutboxEntry).where(OutboxEntry.state == state).order_by(OutboxEntry.id))
    order_ids = {e.order_id for e in result.items if e.order_id}
    numbers = dict(db().execute(select(Order.id, Order.number).where(Order.id.in_(order_ids))).all()) \
        if order_ids else {}
    registry = tasks(kernel())
    return render_template("admin/outbox.html", result=result, state=state, counts=counts(db()),
                           numbers=numbers, registered=set(registry),
                           labels={name: task.label for name, task in registry.items() if task.label})


@bp.post("/<int:entry_id>/retry")
@staff_required("owner")
def retry(entry_id: int):
    require_csrf()
    if not 0 < entry_id <= MAX_ID:
        abort(404)
    session = db()
    if session.get(OutboxEntry, entry_id) is None:
        abort(404)
    with write_transaction(session):
        moved = retry_entry(session, entry_id)
    # Run at once when the shop runs its outbox in-process (after the commit), else by the worker.
    if moved:
        state = session.scalar(select(OutboxEntry.state).where(OutboxEntry.id == entry_id))
        if state == "done":
            flash(_("Done: the work ran again and succeeded."), "success")
        elif state == FAILED:
            flash(_("It failed again; the error is shown below."), "error")
        else:
            flash(_("Queued: it runs again shortly."), "success")
    else:
        flash(_("This work is not failed (any more): nothing to retry."), "info")
    return redirect(url_for("admin_outbox.index", state=request.form.get("state", FAILED)
                            if request.form.get("state") in STATES else FAILED))
