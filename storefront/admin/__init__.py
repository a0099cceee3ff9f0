"""The back office for owners and agents, under ``/admin``.

Staff sign in with their own cookie (``siyu_staff``, path ``/admin``), apart from shoppers'
sessions: signing out of the shop never signs staff out, and the reverse. Plugins add menu
items, pages, dashboard widgets and member panels through hooks.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, abort, current_app, g, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from siyu.core.models import StaffUser
from siyu.core.staff import end_sessions, may
from siyu.storefront.context import db, kernel

COOKIE = "siyu_staff"
MAX_AGE = 12 * 3600


@dataclass
class MenuItem:
    endpoint: str
    label: Any
    role: str = "agent"
    order: int = 100


@dataclass
class Widget:
    name: str
    title: Any
    render: Callable
    role: str = "owner"
    order: int = 100


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="siyu-staff")


def _fingerprint(staff: StaffUser) -> str:
    # Changing the password (or its hash) ends every existing staff session.
    return staff.password_hash[-12:]


def sign_in(response, staff: StaffUser):
    # "s", the staff member's session version, is raised by signing out, a password change
    # and deactivation: every cookie made before then stops working, on every worker.
    token = _serializer().dumps({"id": staff.id, "v": _fingerprint(staff), "s": staff.session_version})
    response.set_cookie(COOKIE, token, max_age=MAX_AGE, path="/admin", httponly=True,
                        samesite="Strict", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def sign_out(response):
    """End the signed-in staff member's sessions everywhere (not only this cookie)."""
    staff = current_staff()
    if staff is not None:
        end_sessions(db(), staff.id)
        g.staff = None
    response.delete_cookie(COOKIE, path="/admin")
    return response


def current_staff() -> StaffUser | None:
    if "staff" not in g:
        g.staff = None
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = _serializer().loads(raw, max_age=MAX_AGE)
            except BadSignature:
                data = None
            if isinstance(data, dict) and isinstance(data.get("id"), int):
                staff = db().get(StaffUser, data["id"]) if 0 < data["id"] <= 2**31 - 1 else None
                if staff is not None and staff.active and data.get("v") == _fingerprint(staff) \
                        and data.get("s") == staff.session_version:
                    g.staff = staff
    return g.staff


def staff_required(role: str = "agent"):
    """Decorate a back-office view: signed-in staff of at least ``role``, else login / 403."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                return redirect(url_for("admin.login", next=request.full_path))
            if not may(staff, role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def menu_for(staff: StaffUser) -> list[MenuItem]:
    items = current_app.extensions["siyu_admin_menu"]
    return [item for item in items if may(staff, item.role)]


def init_app(app: Flask) -> None:
    from siyu.storefront.admin import auth, dashboard, members, orders, plugins, products, settings, staff, tokens
    from siyu.storefront.admin import delivery

    menu = [MenuItem("admin.dashboard", dashboard.TITLE, "agent", 0)]
    from siyu.storefront.admin import broadcasts, inbox  # conversations

    for module, role, order in ((inbox, "agent", 5), (broadcasts, "owner", 40)):
        app.register_blueprint(module.bp)
        menu.append(MenuItem(f"{module.bp.name}.index", module.TITLE, role, order))
    # The core's pages: (module, least role that sees the menu item, menu order).
    pages = [(orders, "agent", 10), (members, "agent", 20), (products, "agent", 30),
             (settings, "owner", 900), (delivery, "owner", 905), (plugins, "owner", 910), (staff, "owner", 920), (tokens, "agent", 930)]
    for module, role, order in pages:
        app.register_blueprint(module.bp)
        menu.append(MenuItem(f"{module.bp.name}.index", module.TITLE, role, order))
    # Fulfilment: the to-ship queue and after-sales (agents see and ship, owners decide), carriers.
    from siyu.storefront.admin import after_sales, carriers, shipping, shipping_import

    for module, role, order in ((shipping, "agent", 12), (after_sales, "agent", 14), (carriers, "owner", 906)):
        app.register_blueprint(module.bp)
        menu.append(MenuItem(f"{module.bp.name}.index", module.TITLE, role, order))
    app.register_blueprint(shipping_import.bp)
    widgets: list[Widget] = []
    kernel_ = app.extensions["siyu"]
    kernel_.pm.hook.register_admin_menu(
        register=lambda endpoint, label, role="agent", order=100: menu.append(MenuItem(endpoint, label, role, order)))
    kernel_.pm.hook.register_dashboard_widgets(
        register=lambda name, title, render, role="owner", order=100: widgets.append(Widget(name, title, render, role, order)))
    schemas: dict = {}
    kernel_.pm.hook.register_settings_schemas(register=lambda name, schema: schemas.setdefault(name, schema))
    app.extensions["siyu_settings_schemas"] = schemas
    app.extensions["siyu_admin_menu"] = sorted(menu, key=lambda m: m.order)
    app.extensions["siyu_admin_widgets"] = sorted(widgets, key=lambda w: w.order)
    app.register_blueprint(auth.bp)  # dashboard's views live on the same "admin" blueprint

    @app.context_processor
    def admin_context():
        if not request.path.startswith("/admin"):
            return {}
        staff = current_staff()
        return {"staff": staff, "admin_menu": menu_for(staff) if staff else []}


__all__ = ["staff_required", "current_staff", "sign_in", "sign_out", "kernel"]
