"""Member accounts: sign-up, login, logout, password change, order history and the order page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from siyu.core.errors import ValidationError
from siyu.core.members import MIN_PASSWORD, authenticate, bind_touches, change_password, end_sessions, sign_up
from siyu.core.signin import AccountLocked
from siyu.core.db import write_transaction
from siyu.core.models import Order, Payment
from siyu.core.orders import order_for_member
from siyu.core.payments.gateway import DESKTOP
from siyu.core.reservations import UnpaidLimitReached
from siyu.storefront.context import db, kernel
from siyu.storefront.errors import problem_response, wants_json
from siyu.storefront.extensions import limiter
from siyu.storefront.views.helpers import locale_code, show_error
from siyu.storefront.visitor import request_attribution, visitor_id

bp = Blueprint("account", __name__)
PAGE_SIZE = 20


class SignupForm(FlaskForm):
    name = StringField(validators=[Length(max=100)])
    email = EmailField(validators=[InputRequired(), Length(max=254)])
    password = PasswordField(validators=[InputRequired(), Length(min=MIN_PASSWORD, max=200)])


class LoginForm(FlaskForm):
    email = EmailField(validators=[InputRequired(), Length(max=254)])
    password = PasswordField(validators=[InputRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(validators=[InputRequired(), Length(max=200)])
    new_password = PasswordField(validators=[InputRequired(), Length(min=MIN_PASSWORD, max=200)])


def _safe_next(default: str) -> str:
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default


@bp.route("/account/signup", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def signup():
    form = SignupForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                member = sign_up(kernel(), db(), email=form.email.data, password=form.password.data,
                                 name=form.name.data or "", locale=locale_code(), visitor_id=visitor_id(),
                                 attribution=request_attribution())
            except ValidationError as exc:
                show_error(exc, form)
                status = 422
            else:
                login_user(member)
                flash(_("Welcome! Your account is ready."), "success")
                return redirect(_safe_next(url_for("catalog.home")))
        else:
            status = 422
    return render_template("account/signup.html", form=form, next=_safe_next("")), status


@bp.route("/account/login", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def login():
    form = LoginForm()
    status = 200
    headers = {}
    if request.method == "POST":
        try:
            member = authenticate(kernel(), db(), form.email.data or "", form.password.data or "") \
                if form.validate() else None
        except AccountLocked as exc:
            # Locked after repeated wrong passwords: refused whatever the password was.
            flash(str(exc.message), "error")
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        else:
            if member is not None:
                login_user(member)
                with write_transaction(db()):
                    bind_touches(db(), visitor_id(), member.id)
                return redirect(_safe_next(url_for("catalog.home")))
            flash(_("Email or password is not correct."), "error")
            status = 401 if form.validate() else 422
    return render_template("account/login.html", form=form, next=_safe_next("")), status, headers


@bp.post("/account/logout")
def logout():
    if not FlaskForm().validate():
        abort(400)
    if current_user.is_authenticated:
        # Every copy of the session (and any remember cookie) stops working, on every worker.
        end_sessions(db(), current_user.id)
    logout_user()
    return redirect(url_for("catalog.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10/minute", methods=["POST"])
def password():
    form = PasswordForm()
    status = 200
    headers = {}
    if request.method == "POST":
        if form.validate():
            try:
                member = change_password(kernel(), db(), current_user, form.current_password.data,
                                         form.new_password.data)
            except AccountLocked as exc:
                flash(str(exc.message), "error")
                status, headers = 429, {"Retry-After": str(exc.retry_after)}
            except ValidationError as exc:
                show_error(exc, form)
                status = 422
            else:
                # Every other session ended with the old version; this browser continues.
                login_user(member)
                flash(_("Your password was changed. You were signed out everywhere else."), "success")
                return redirect(url_for("account.orders"))
        else:
            status = 422
    return render_template("account/password.html", form=form), status, headers


@bp.get("/account/orders")
@login_required
def orders():
    page = request.args.get("page", 1, type=int)
    page = max(page or 1, 1)
    base = select(Order).where(Order.member_id == current_user.id)
    total = db().scalar(select(func.count()).select_from(base.subquery()))
    rows = db().scalars(base.order_by(Order.placed_at.desc(), Order.id.desc())
                        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template("account/orders.html", orders=rows, page=page, pages=pages, total=total)


@bp.get("/orders/<number>")
@login_required
def order(number: str):
    item = order_for_member(db(), number, current_user)
    payments = db().scalars(select(Payment).where(Payment.order_id == item.id)).all()
    return render_template("account/order.html", order=item, payments=payments, form=FlaskForm(),
                           pay_later=_pay_later_text(item, payments))


def _pay_later_text(order, payments) -> str | None:
    """For an unpaid order of a gateway paid outside the shop (a transfer, on delivery): how."""
    gateway = kernel().payment_providers.get(order.payment_method)
    pending = [p for p in payments if p.status == "pending"]
    if order.status != "placed" or gateway is None or not gateway.supports.pays_later or not pending:
        return None
    return str(gateway.pay_action(kernel(), pending[-1], DESKTOP).text)


@bp.app_errorhandler(UnpaidLimitReached)
def unpaid_limit(exc: UnpaidLimitReached):
    """A checkout refused for too many unpaid orders: the page leads to them (JSON: the problem)."""
    if wants_json():
        return problem_response(exc.status, str(exc.message), exc.fields)
    return render_template("account/unpaid_limit.html", message=exc.message), exc.status
