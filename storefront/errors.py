"""Errors become a clear HTML page or a JSON problem object, never a bare 500.

Error pages are made without the database, whatever went wrong: the request's transaction is
ended first (after a failed statement PostgreSQL refuses every other one in it; with the
server gone nothing answers), and from then on any use of the request's session raises. The
page takes the locale, the shop's name and who is signed in from what the request already
loaded, the session cookie, the settings this worker read last or the defaults; plugin slots
are left out. The security headers are set on the answer itself, so they are there even if
an ``after_request`` function fails, and a page that cannot be rendered becomes a plain one.

A database outage (``OperationalError``, no pooled connection in time) answers 503 with
``Retry-After``: nothing was written, and a webhook provider retries any 5xx by itself.
"""
from __future__ import annotations

import functools
import logging

from flask import Flask, current_app, g, jsonify, request, session
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from siyu.core.errors import SiyuError
from siyu.storefront import security
from siyu.storefront.context import end_transaction_for_error_page, known_shop_settings
from siyu.storefront.logs import exception_signature, log_unexpected

RETRY_AFTER = "5"
DATABASE_DOWN = (OperationalError, PoolTimeout)
log = logging.getLogger("siyu.storefront.errors")


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/webhooks/")) or request.path.endswith(".json") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def problem_response(status: int, title: str, fields: dict | None = None):
    """The error answer to this request, a JSON problem or the shop's error page, made
    without the database and with the security headers."""
    end_transaction_for_error_page()
    try:
        if wants_json():
            body = {"type": "about:blank", "title": str(title), "status": status}
            if fields:
                body["errors"] = {k: str(v) for k, v in fields.items()}
            response = jsonify(body)
            response.status_code = status
            response.mimetype = "application/problem+json"
        else:
            response = current_app.response_class(_render_page(status, title, fields), status=status,
                                                  mimetype="text/html")
    except Exception:
        log.exception("the error page for %s could not be rendered", status)
        response = _plain_response(status, title)
    return _finish(response)


class _SignedIn:
    """Who the session cookie says is signed in, not loaded (the nav needs no more)."""

    is_authenticated, is_active, is_anonymous, locale = True, True, False, None


def _signed_in() -> bool:
    member = g.get("_login_user")
    if member is not None:
        return not isinstance(member, AnonymousUserMixin)
    return "_user_id" in session  # ``in`` does not mark the session accessed


def _render_page(status: int, title, fields: dict | None) -> str:
    # Rendered straight from the environment: Flask's context processors (the member, the
    # back office's staff) would load from the database. The layout's helpers that read it
    # are replaced by what is known without it.
    from siyu.storefront.chrome import nav_links

    signed_in = _signed_in()
    # Not the loaded member itself: its attributes may have been expired by the rollback.
    member = _SignedIn() if signed_in else AnonymousUserMixin()
    template = current_app.jinja_env.get_template("error.html")
    return template.render(
        status=status, title=title, fields=fields or {},
        current_user=member, shop=known_shop_settings,
        slot=lambda name, **context: Markup(""),
        chat_unread=lambda: g.get("siyu_chat_unread") or 0,
        nav_links=lambda: nav_links(signed_in=signed_in),
    )


def _plain_response(status: int, title=None):
    """The last resort: no template, no translation that could fail again."""
    try:
        text = escape(str(title)) if title is not None else ""
    except Exception:
        text = ""
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{status}</title></head>'
            f'<body><h1>{text or status}</h1><p><a href="/">Siyu</a></p></body></html>')
    return current_app.response_class(html, status=status, mimetype="text/html")


def _finish(response):
    if security.personal_response():
        security.keep_private(response)
    return security.apply_headers(response)


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, DATABASE_DOWN):
        return 503
    if isinstance(exc, HTTPException):
        return exc.code or 500
    if isinstance(exc, SiyuError):
        return exc.status
    return 500


def _without_database(handler):
    """End the transaction before the handler translates or renders anything, and answer a
    plain page should the handler itself fail."""
    @functools.wraps(handler)
    def wrapped(exc):
        end_transaction_for_error_page()
        try:
            return handler(exc)
        except Exception:
            log.exception("the error handler for %r failed", exc)
            status = _status_of(exc)
            response = _finish(_plain_response(status))
            if status == 503:
                response.headers["Retry-After"] = RETRY_AFTER
            return response
    return wrapped


def _database_error_summary(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    return (str(inner).strip().splitlines() or [type(inner).__name__])[0][:300]


def init_app(app: Flask) -> None:
    @app.errorhandler(SiyuError)
    @_without_database
    def siyu_error(exc: SiyuError):
        return problem_response(exc.status, str(exc.message), exc.fields)

    @app.errorhandler(CSRFError)
    @_without_database
    def csrf_error(exc: CSRFError):
        return problem_response(400, _("This form has expired or was not sent by this shop. "
                                       "Please go back, reload the page and try again."))

    @_without_database
    def database_unavailable(exc: Exception):
        # The database refused or lost the transaction, so nothing was written: say so and
        # ask for a retry. One line, summarised with the same failure on other paths.
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path,
                         _database_error_summary(exc),
                         extra={"repeat_key": ("database unavailable", exception_signature(exc)[:3])})
        response = problem_response(503, _("The shop is busy right now. Please try again in a moment."))
        response.headers["Retry-After"] = RETRY_AFTER
        return response

    for error in DATABASE_DOWN:
        app.register_error_handler(error, database_unavailable)

    @app.errorhandler(InternalServerError)
    @_without_database
    def server_error(exc: InternalServerError):
        return problem_response(500, _("Something went wrong. Please try again."))

    @app.errorhandler(HTTPException)
    @_without_database
    def http_error(exc: HTTPException):
        titles = {
            404: _("We could not find that page."),
            405: _("That action is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        response = problem_response(exc.code or 500, titles.get(exc.code, exc.description or exc.name))
        for key, value in exc.get_headers():  # e.g. Allow on a 405
            if key.lower() != "content-type":
                response.headers[key] = value
        return response

    def log_exception(exc_info) -> None:
        log_unexpected(app.logger, exc_info, f"{request.path} [{request.method}]")

    app.log_exception = log_exception  # type: ignore[method-assign]
