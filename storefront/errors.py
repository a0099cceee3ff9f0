"""Errors become a clear HTML page or a JSON problem object, never a bare 500."""
from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from siyu.core.errors import SiyuError


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/webhooks/")) or request.path.endswith(".json") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def problem_response(status: int, title: str, fields: dict | None = None):
    if wants_json():
        body = {"type": "about:blank", "title": title, "status": status}
        if fields:
            body["errors"] = {k: str(v) for k, v in fields.items()}
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        return response
    return render_template("error.html", status=status, title=title, fields=fields or {}), status


def init_app(app: Flask) -> None:
    @app.errorhandler(SiyuError)
    def siyu_error(exc: SiyuError):
        return problem_response(exc.status, str(exc.message), exc.fields)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return problem_response(400, _("This form has expired or was not sent by this shop. "
                                       "Please go back, reload the page and try again."))

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # The database refused or lost the transaction, so nothing was written: say so and
        # ask for a retry (a webhook provider retries on any 5xx by itself).
        app.logger.error("database error: %s", exc)
        if g.get("db") is not None:
            g.db.rollback()  # the page below may read (the header's badges) on a clean session
        response = app.make_response(problem_response(
            503, _("The shop is busy right now. Please try again in a moment.")))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        titles = {
            404: _("We could not find that page."),
            405: _("That action is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        return problem_response(exc.code or 500, titles.get(exc.code, exc.description or exc.name))
