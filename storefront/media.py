"""Uploaded media (product images) served from ``<instance>/media``; private files (after-sales
photos) kept apart in ``<instance>/private``."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, send_from_directory, url_for

from siyu.core.media import PREFIX

bp = Blueprint("media", __name__)


def media_root() -> Path:
    return Path(current_app.instance_path) / "media"


def private_root() -> Path:
    """Files that are never public (after-sales photos): ``<instance>/private``, beside the
    public media folder, served only by views that check who asks."""
    return Path(current_app.instance_path) / "private"


@bp.get("/media/<path:filename>")
def file(filename: str):
    # send_from_directory refuses paths that leave the folder; uploads are checked images.
    return send_from_directory(media_root(), filename, max_age=86400)


def image_src(path: str) -> str:
    """URL of a product image: an upload (``media/...``) or a bundled static file."""
    if path.startswith(PREFIX):
        return url_for("media.file", filename=path[len(PREFIX):])
    return url_for("static", filename=path)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["image_src"] = image_src
