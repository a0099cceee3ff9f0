"""Flask extensions, bound to each app in ``create_app()``."""
from hashlib import sha512

from flask import Flask, current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def member_or_address() -> str:
    """Rate-limit key of a shopper's action: the signed-in member on every device and
    address (a mobile network puts many shoppers behind one), else the client's address."""
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()


def configured_limit(key: str):
    """A limit read from the app's configuration (``SIYU_<KEY>``) when a request is checked."""
    return lambda: str(current_app.config[key])


def session_identifier() -> str:
    """What "strong" session protection binds a shopper's session to: the client's address
    and user agent.

    Flask-Login's own identifier reads ``X-Forwarded-For``, which any client can send, so a
    stolen cookie could be replayed with the victim's address in that header. This one
    reads ``request.remote_addr`` only, which is the peer's address unless the shop is
    configured behind a trusted proxy (``PROXY_FIX``), where werkzeug's ``ProxyFix`` sets
    it from the header the proxy appended.
    """
    base = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
    return sha512(base.encode("utf-8", "replace")).hexdigest()


# Flask-Login 0.6 has no public setting for this; the attribute is what it calls.
login_manager._session_identifier_generator = session_identifier


def drop_idle_limit_check(app: Flask) -> None:
    """Remove Flask-Limiter's per-request check when no limit could apply to it.

    The shop only rate-limits decorated routes (sign-in, sign-up, chat posts...), and a
    decorated route checks its own limits when it runs. The check Flask-Limiter adds before
    every request serves default, application, blueprint and meta limits only; with none
    configured it still resolves the endpoint's limits on every page (about a tenth of a
    millisecond). Call once every blueprint is registered; any such limit keeps the check.
    """
    manager = limiter.limit_manager
    in_use = (manager.default_limits or manager.application_limits
              or getattr(manager, "_blueprint_limits", True) or getattr(limiter, "_meta_limits", True))
    funcs = app.before_request_funcs.get(None, [])
    if not in_use and limiter._check_request_limit in funcs:
        funcs.remove(limiter._check_request_limit)
