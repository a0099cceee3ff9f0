"""Back office: plugins — installed plugins with version and state, enable/disable, and a
settings form generated from each plugin's marshmallow schema (owners).

Enabling or disabling is stored in the database and applied when the workers restart
(the plugin manager is built once per process); the page says so. Enabling a plugin whose
migrations have not run is refused with the command to run.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields as mf
from marshmallow import validate

from siyu.core import migrate
from siyu.core.errors import SiyuError
from siyu.core.plugin_admin import (
    configuration_disabled, current_values, save_plugin_settings, schema_instance, set_plugin_enabled,
    stored_choice,
)
from siyu.core.plugins import describe_plugins, installed_entry_points
from siyu.storefront.admin import settings_schemas, staff_required
from siyu.storefront.admin.common import require_csrf, show_error
from siyu.storefront.context import db, kernel

bp = Blueprint("admin_plugins", __name__, url_prefix="/admin/plugins")
TITLE = _l("Plugins")


def schemas() -> dict:
    return settings_schemas()


@bp.get("")
@staff_required("owner")
def index():
    on, off = stored_choice(db())
    return render_template("admin/plugins/index.html", plugins=describe_plugins(kernel().pm),
                           stored_on=on, stored_off=off, schemas=schemas(),
                           config_disabled=configuration_disabled(kernel().config))


@bp.post("/<name>/state")
@staff_required("owner")
def state(name: str):
    require_csrf()
    enabled = request.form.get("enabled") == "1"
    try:
        set_plugin_enabled(db(), name, enabled, [ep.name for ep in installed_entry_points()],
                           configuration_disabled(kernel().config), _pending_migrations(name) if enabled else ())
    except SiyuError as exc:
        show_error(exc)
    else:
        flash(_("Saved. The change takes effect when the shop's workers restart."), "success")
    return redirect(url_for("admin_plugins.index"))


def _pending_migrations(name: str) -> list[str]:
    """The plugin's revisions not applied yet; a plugin that cannot be loaded or a version
    table that cannot be read counts as pending (enabling it would break the shop)."""
    try:
        return migrate.plugin_pending(kernel(), name)
    except migrate.NotInstalled:
        return []  # set_plugin_enabled says so
    except migrate.MigrationError as exc:
        current_app.logger.warning("plugin %s not enabled: %s", name, exc)
        return [str(exc)]


def describe_fields(schema, values: dict, errors: dict) -> list[dict]:
    """What the template needs to draw one input per schema field."""
    described = []
    for name, field in schema_instance(schema).fields.items():
        if field.dump_only:
            continue
        one_of = next((v for v in field.validators if isinstance(v, validate.OneOf)), None)
        kind = ("checkbox" if isinstance(field, mf.Boolean) else "select" if one_of
                else "number" if isinstance(field, (mf.Integer, mf.Float, mf.Decimal))
                else "lines" if isinstance(field, mf.List) else "email" if isinstance(field, mf.Email)
                else "text")
        value = values.get(name)
        described.append({
            "name": name, "kind": kind, "value": "\n".join(map(str, value or [])) if kind == "lines" else value,
            "label": field.metadata.get("label") or name, "help": field.metadata.get("help") or "",
            "choices": list(zip(one_of.choices, one_of.labels)) if one_of else [],
            "error": errors.get(name), "integer": isinstance(field, mf.Integer),
        })
    return described


def raw_from_form(schema) -> dict:
    raw = {}
    for name, field in schema_instance(schema).fields.items():
        if isinstance(field, mf.Boolean):
            raw[name] = name in request.form
        elif isinstance(field, mf.List):
            raw[name] = [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()]
        elif request.form.get(name, "") != "" or isinstance(field, mf.String):
            raw[name] = request.form.get(name, "")
    return raw


@bp.route("/<name>/settings", methods=["GET", "POST"])
@staff_required("owner")
def plugin_settings(name: str):
    schema = schemas().get(name)
    if schema is None:
        abort(404)
    errors, status = {}, 200
    values = current_values(db(), name, schema)
    if request.method == "POST":
        require_csrf()
        raw = raw_from_form(schema)
        try:
            save_plugin_settings(db(), name, schema, raw)
        except SiyuError as exc:
            show_error(exc)
            errors, status = exc.fields, 422
            values.update(raw)
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("admin_plugins.plugin_settings", name=name))
    return render_template("admin/plugins/settings.html", name=name,
                           fields=describe_fields(schema, values, errors)), status
