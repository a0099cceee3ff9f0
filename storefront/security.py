"""Secret key, cookie flags and security headers."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface


class KeyOnFirstUse(SecureCookieSessionInterface):
    """Flask's signed-cookie session, which loads the shop's secret key the first time a
    request opens or saves a session; every other signer (CSRF, the staff cookie) runs after."""

    def get_signing_serializer(self, app: Flask):
        ensure_secret_key(app)
        return super().get_signing_serializer(app)


def ensure_secret_key(app: Flask) -> str:
    """The app's secret key: configured, or the instance folder's (created on first use)."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    return app.config["SECRET_KEY"]


def load_or_create_secret_key(instance_path: str) -> str:
    """A random key generated into the instance folder on first run (never in the repo).

    Several workers may start at once on a new instance: each writes a complete key to a
    temporary file of its own and links it into place; ``link`` refuses to replace an
    existing file, so exactly one key wins and every process reads that one. The key file
    is therefore never seen empty or half written.
    """
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(50):
        key = _read_key(path)
        if key:
            return key
        if key is None:
            _create_key(path)
            continue
        time.sleep(0.1)  # an empty file: a writer without link support is still writing
    raise RuntimeError(f"{path} is empty: delete it so that a new secret key is generated")


def _read_key(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _create_key(path: Path) -> None:
    """Write a new key beside ``path`` and link it into place unless another process won."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process's key is in place: everyone reads that one
        except OSError:
            # A file system without hard links: rename cannot refuse to replace, so claim
            # the name exclusively first and fill it (readers wait while it is empty).
            try:
                claimed = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(claimed, "w") as handle:
                handle.write(temporary.read_text())
    finally:
        temporary.unlink(missing_ok=True)


def configure_cookies(app: Flask) -> None:
    secure = bool(app.config.get("SECURE_COOKIES", True))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="siyu_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(config) -> str:
    stripe = _origin(config.get("STRIPE_JS_URL", ""))
    extra = f" {stripe}" if stripe else ""
    return "; ".join([
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        f"script-src 'self'{extra}",
        f"frame-src 'self'{extra}",
        f"connect-src 'self'{extra}",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ])


PRIVATE = "private, no-store"
#: Answers that never hold personal data, cacheable for everyone whoever asks.
PUBLIC_ENDPOINTS = ("static", "media.file")


def install_headers(app: Flask) -> None:
    csp = content_security_policy(app.config)
    secure = bool(app.config.get("SECURE_COOKIES", True))

    defaults = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if secure:
        defaults.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    app.extensions["siyu_security_headers"] = defaults

    @app.after_request
    def security_headers(response):
        if personal_response():
            keep_private(response)
        return apply_headers(response, defaults)


def apply_headers(response, defaults=None):
    """Add the security headers a response lacks (a view may have set its own policy, which
    wins); also used by the error pages, which must carry them whatever else failed."""
    if defaults is None:
        defaults = current_app.extensions.get("siyu_security_headers", ())
    # One pass over the response's headers instead of a scan per default.
    present = {key.lower() for key, _value in response.headers}
    response.headers.extend([(k, v) for k, v in defaults if k.lower() not in present])
    return response


def personal_response() -> bool:
    """Whether this answer may hold personal data, so no cache but the user's may keep it: the
    API, the back office, and anything answered to a signed-in shopper or staff member,
    core or plugin page alike. Decided without the database: from what this request already
    loaded and from the session cookie (which says who is signed in before anyone loads them).
    """
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.endswith(".static"):
        return False
    path = request.path
    if path.startswith("/api/") or path == "/admin" or path.startswith("/admin/"):
        return True
    user = g.get("_login_user")  # Flask-Login's member, when this request loaded it
    if user is not None and getattr(user, "is_authenticated", False):
        return True
    if g.get("staff") is not None:
        return True
    # ``in`` reads the cookie's data without marking the session accessed (no Vary: Cookie).
    return "_user_id" in session


def keep_private(response) -> None:
    """``Cache-Control: private, no-store`` unless the view chose a policy that already keeps
    shared caches out (``private`` or ``no-store``, e.g. a poster download kept 5 minutes)."""
    chosen = (response.headers.get("Cache-Control") or "").lower()
    if "private" not in chosen and "no-store" not in chosen:
        response.headers["Cache-Control"] = PRIVATE
