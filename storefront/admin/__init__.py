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
    plugin: str = "siyu"


@dataclass
class Widget:
    name: str
    title: Any
    render: Callable
    role: str = "owner"
    order: int = 100
    plugin: str = "siyu"


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
    return [item for item in kernel().registry("admin_menu", _menu) if may(staff, item.role)]


def dashboard_widgets() -> list[Widget]:
    """The plugins' dashboard widgets in order, with the plugin that registered each."""
    return kernel().registry("dashboard_widgets", _widgets)


def settings_schemas() -> dict:
    """``{plugin: marshmallow schema}`` from ``register_settings_schemas``."""
    return kernel().registry("settings_schemas", _schemas)


def _core_pages():
    """The core's pages: (module, least role that sees the menu item, menu order)."""
    from siyu.storefront.admin import (
        after_sales, broadcasts, carriers, delivery, inbox, members, orders, outbox, plugins, products, settings,
        shipping, staff, tokens,
    )

    return [(inbox, "agent", 5), (orders, "agent", 10), (shipping, "agent", 12), (after_sales, "agent", 14),
            (members, "agent", 20), (products, "agent", 30), (broadcasts, "owner", 40), (settings, "owner", 900),
            (delivery, "owner", 905), (carriers, "owner", 906), (plugins, "owner", 910), (outbox, "owner", 915),
            (staff, "owner", 920), (tokens, "agent", 930)]


def _menu(kernel_) -> list[MenuItem]:
    from siyu.storefront.admin import dashboard
    from siyu.core.registries import contributions

    menu = [MenuItem("admin.dashboard", dashboard.TITLE, "agent", 0)]
    menu += [MenuItem(f"{module.bp.name}.index", module.TITLE, role, order) for module, role, order in _core_pages()]
    for made in contributions(kernel_.pm, "register_admin_menu"):
        menu.append(MenuItem(made.arg(0, "endpoint"), made.arg(1, "label"), made.arg(2, "role", "agent"),
                             made.arg(3, "order", 100), made.plugin))
    return sorted(menu, key=lambda m: m.order)


def _widgets(kernel_) -> list[Widget]:
    from siyu.core.registries import contributions

    found = [Widget(made.arg(0, "name"), made.arg(1, "title"), made.arg(2, "render"), made.arg(3, "role", "owner"),
                    made.arg(4, "order", 100), made.plugin)
             for made in contributions(kernel_.pm, "register_dashboard_widgets")]
    return sorted(found, key=lambda w: w.order)


def _schemas(kernel_) -> dict:
    from siyu.core.registries import contributions

    found: dict = {}
    for made in contributions(kernel_.pm, "register_settings_schemas"):
        found.setdefault(made.arg(0, "plugin_name"), made.arg(1, "schema"))
    return found


def init_app(app: Flask) -> None:
    from siyu.storefront.admin import auth, dashboard, shipping_import  # noqa: F401 - dashboard's views join auth.bp

    for module, _role, _order in _core_pages():
        app.register_blueprint(module.bp)
    app.register_blueprint(shipping_import.bp)
    app.register_blueprint(auth.bp)  # dashboard's views live on the same "admin" blueprint

    @app.context_processor
    def admin_context():
        if not request.path.startswith("/admin"):
            return {}
        staff = current_staff()
        return {"staff": staff, "admin_menu": menu_for(staff) if staff else []}


__all__ = ["staff_required", "current_staff", "sign_in", "sign_out", "kernel"]
