"""Secret key, cookie flags and security headers."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask


def load_or_create_secret_key(instance_path: str) -> str:
    """A random key generated into the instance folder on first run (never in the repo)."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


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

    @app.after_request
    def security_headers(response):
        # One pass over the response's headers instead of a scan per default (a view may
        # have set its own policy, which wins).
        present = {key.lower() for key, _value in response.headers}
        response.headers.extend([(k, v) for k, v in defaults if k.lower() not in present])
        return response
