"""The storefront's web hooks: pages, the chrome around them, the back office, the REST API.

The storefront adds these to the shop's plugin manager (``create_app()`` builds its kernel
with this module); the core's hooks (``siyu.core.hookspecs``) are web-free. A kernel built
without the storefront (the CLI of another host, a job runner) never calls these, and the
plugins that implement them still load there. Conventions as in ``siyu.core.hookspecs``;
``docs/hooks.md`` is generated from both modules.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from siyu.core import hookspec

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from sqlalchemy.orm import Session

    from siyu.core.models import Member, Order


# ------------------------------------------------------------------------ web app setup


@hookspec
def register_blueprints(register: Callable[..., None]) -> None:
    """Contribute Flask blueprints: ``register(blueprint, url_prefix=None)``.

    Called once while ``create_app()`` builds the application. A plugin owns its blueprint,
    templates (``template_folder``) and static files. Not in a transaction.
    """


@hookspec
def register_translations(register: Callable[[str], None]) -> None:
    """Contribute a gettext translations directory (``<dir>/<locale>/LC_MESSAGES/messages.mo``).

    Catalogs are merged with the core's; the core's ``zh_CN`` and ``en`` are always present.
    Not in a transaction.
    """


@hookspec
def register_api(register: Callable[..., None]) -> None:
    """Contribute REST API endpoints: ``register(blueprint, url_prefix)``.

    ``blueprint`` is a ``flask_smorest.Blueprint`` whose views use marshmallow schemas
    (``@blp.arguments``, ``@blp.response``); it is mounted under ``/api/v1`` + ``url_prefix``
    (e.g. ``"/coupons"``) and documented in ``/api/v1/openapi.json``. Every request is
    authenticated by a staff API token (``Authorization: Bearer ...``) before the view
    runs, at least as an agent; views that need more call
    ``siyu.storefront.api.require_role("owner")``. Errors are JSON problem objects.
    Called once at start-up. Not in a transaction.
    """


# --------------------------------------------------------------------- storefront pages


@hookspec
def register_stylesheets(register: Callable[[str, str], None]) -> None:
    """Add a stylesheet to every storefront page: ``register(endpoint, filename)``.

    ``endpoint`` is the static endpoint of a blueprint the plugin registered (for example
    ``"checkin.static"``) and ``filename`` a file in its static folder. The core writes one
    ``<link rel="stylesheet">`` per file into the page head, in registration order. The
    links are rendered once per worker and set of plugins, not per request.
    Not in a transaction. Head markup that depends on the request belongs in the ``head`` slot.
    """


@hookspec
def register_nav_links(register: Callable[..., None]) -> None:
    """Add a link to the storefront's top navigation:
    ``register(endpoint, label, signed_in=True, order=100, css_class="")``.

    ``endpoint`` is a Flask endpoint without arguments; ``label`` lazy-translatable text;
    ``signed_in`` ``True`` shows the link to signed-in shoppers only, ``False`` to signed-out
    shoppers only, ``None`` to everyone. Links are sorted by ``order`` and rendered once per
    worker, locale, sign-in state and set of plugins, not per request. Not in a transaction.
    A link that changes per shopper (a count, a badge) belongs in the ``nav`` slot.
    """


@hookspec
def storefront_slot(slot: str, context: Mapping[str, Any]) -> str | None:
    """Render HTML into a named slot of a storefront page; return markup or ``None``.

    Slots: ``head``, ``nav``, ``home_top``, ``product_after_price``, ``cart_after_lines``,
    ``checkout_form`` (inputs posted back as ``cart.inputs``), ``order_after_lines``,
    ``account_panel``. ``context`` holds the page's objects (``product``, ``cart``, ``order``,
    ``member``, ``locale``). Return markup you have escaped (``markupsafe.Markup``).
    Display hook: a failure is logged with your plugin's name and skipped. An implementation
    with ``@hookimpl(wrapper=True)`` gets the others' markup (``parts = yield``) and returns
    the list to show (to frame or reorder it). Not in a transaction.
    """


# ------------------------------------------------------------------ sign-up and checkout


@hookspec
def request_attribution(session: "Session") -> Mapping[str, Any] | None:
    """Tell a sign-up or a checkout where this request's shopper came from, beyond the
    visitor's touches (which the core binds itself): a signed referral cookie, say. Return
    ``{"<plugin name>": value}``, a value of your own making that only you read.

    The storefront's sign-up and checkout ask before their transaction and pass the merged
    answers to ``sign_up`` / ``place_order``, which give them to ``on_member_created`` and
    ``on_order_placed`` as ``attribution``: transactional hooks never read the request (the
    API, jobs and the CLI run them with an empty ``attribution``). Not in a transaction.
    """


# -------------------------------------------------------------------------- back office


@hookspec
def register_admin_menu(register: Callable[..., None]) -> None:
    """Add back-office menu items: ``register(endpoint, label, role="agent", order=100)``.

    ``endpoint`` is a Flask endpoint of a blueprint the plugin registered (its pages check
    access with ``siyu.storefront.admin.staff_required(role)``); ``label`` is
    lazy-translatable text; ``role`` is the least role that sees the item (``agent`` or
    ``owner``). Called once at start-up. Not in a transaction.
    """


@hookspec
def register_dashboard_widgets(register: Callable[..., None]) -> None:
    """Add dashboard widgets: ``register(name, title, render, role="owner", order=100)``.

    ``render(session, staff)`` returns escaped markup (``markupsafe.Markup``), e.g. a small
    table or an SVG chart drawn on the server. Called once at start-up; each ``render`` runs
    per dashboard view as a display hook: a failure is logged, the widget is skipped and the
    dashboard still renders. Read only.
    """


@hookspec
def admin_member_panel(member: "Member", session: "Session", staff: Any) -> str | None:
    """Render a panel on the back-office member page (tags, points, commissions...).

    Return escaped markup or ``None``. Display hook: a failure is logged and skipped.
    Read only.
    """


@hookspec
def admin_order_panel(order: "Order", session: "Session", staff: Any) -> str | None:
    """Render a panel on the back-office order page: where the order came from (channel,
    distributor), the commission it earns, the coupon it used...

    Return escaped markup or ``None``. Display hook: a failure is logged and skipped.
    Read only.
    """
