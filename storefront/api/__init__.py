"""The REST API under ``/api/v1`` (flask-smorest, marshmallow schemas, OpenAPI 3).

Staff API tokens (``Authorization: Bearer <token>``) authenticate every call and scope it
to the token's role; cookies never do, so CSRF does not apply here. Errors are JSON
problem objects (``application/problem+json``) with field messages under ``errors``.
The OpenAPI document is ``/api/v1/openapi.json``; ``/api/v1/docs`` renders it on the
server (no CDN). Plugins add endpoints with the ``register_api`` hook.
"""
from __future__ import annotations

import importlib

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from siyu.core.errors import SiyuError
from siyu.storefront.api.auth import (api_caller, authenticate, bearer_token, current_api_staff, require_role,
                                      token_required)
from siyu.storefront.api.schemas import ProblemSchema
from siyu.storefront.extensions import csrf

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
RESOURCES = (
    ("siyu.storefront.api.products", "/products"),
    ("siyu.storefront.api.orders", "/orders"),
    ("siyu.storefront.api.members", "/members"),
    ("siyu.storefront.api.refunds", "/refunds"),
    ("siyu.storefront.api.shipments", "/shipments"),
    ("siyu.storefront.api.after_sales", "/after-sales"),
)
#: Modules that add routes to another resource's blueprint (imported before registering).
EXTENSIONS = ("siyu.storefront.api.addresses",)


class SiyuApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        # Not app-wide: the storefront keeps its HTML error pages; see ``_protect``.
        pass

    def _register_responses(self):
        import http

        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem object", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _field_messages(data: dict) -> dict | None:
    messages = data.get("errors") or data.get("messages")
    if not isinstance(messages, dict):
        return None
    flat = {}
    for key, value in messages.items():  # webargs nests by location: {"json": {"price": [...]}}
        if key in ("json", "query", "path", "headers", "form", "files") and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat


def problem(status: int, title: str, errors: dict | None = None, headers: dict | None = None):
    from flask import jsonify

    body = {"type": "about:blank", "title": title, "status": status}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    response.headers.update(headers or {})
    return response


def http_problem(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors = _field_messages(data)
    title = data.get("message") or (
        _("Please correct the highlighted fields.") if errors else (exc.description or exc.name))
    return problem(exc.code or 500, str(title), errors, data.get("headers"))


def siyu_problem(exc: SiyuError):
    return problem(exc.status, str(exc.message), {k: str(v) for k, v in exc.fields.items()} or None)


def _protect(blueprint) -> None:
    """Token auth before every view, JSON problems for every error, no CSRF (no cookies).

    Blueprints are module globals shared by every app built in the process: set up once.
    """
    if getattr(blueprint, "_siyu_protected", False):
        return
    blueprint._siyu_protected = True
    blueprint.before_request(authenticate)
    blueprint.register_error_handler(HTTPException, http_problem)
    blueprint.register_error_handler(SiyuError, siyu_problem)
    csrf.exempt(blueprint)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Siyu")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "security": [{"bearerAuth": []}],
        "info": {"description": "The shop's REST API. Authenticate with a staff API token "
                                "created in the back office: `Authorization: Bearer <token>`."},
    })
    api = SiyuApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    app.extensions["siyu_api"] = api

    def register(blueprint, url_prefix: str) -> None:
        _protect(blueprint)
        api.register_blueprint(blueprint, url_prefix=PREFIX + url_prefix)

    # Import every resource first: refunds and shipments add routes to the orders blueprint.
    modules = [(importlib.import_module(dotted), url_prefix) for dotted, url_prefix in RESOURCES]
    for dotted in EXTENSIONS:
        importlib.import_module(dotted)
    for module, url_prefix in modules:
        register(module.blp, url_prefix)
    app.extensions["siyu"].pm.hook.register_api(register=register)

    @app.get(f"{PREFIX}/docs")
    def api_docs():
        return render_template("api/docs.html", spec=api.spec.to_dict())


__all__ = ["require_role", "current_api_staff", "problem", "init_app", "token_required", "bearer_token",
           "api_caller"]
