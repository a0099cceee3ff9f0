"""The core's hooks, grouped by the stage at which Siyu calls it: web-free, so the CLI, jobs
and any other host call them alike. Members, attribution and conversations are in
``siyu.core.hookspecs_people``. The storefront adds its own web hooks (blueprints,
slots, the back office...) from ``siyu.storefront.hookspecs``.

These modules are the hook reference: ``docs/hooks.md`` is generated from their docstrings
(``flask siyu hooks-doc``) and a test fails when it is stale or a hook lacks a docstring.

Conventions (as in pluggy and datasette):

- ``register_*(register)`` hooks contribute things; call ``register(...)`` once per thing.
- ``*_from_request`` / ``firstresult`` hooks decide one thing: the first non-``None`` wins.
- ``on_*`` hooks are notifications.
- An implementation may accept any subset of a hook's arguments.
- Hooks that run in a state change receive the shop's ``kernel`` (configuration, plugin
  manager, payment providers) as an argument, and everything else they need (the visitor,
  the attribution): they never read a web request, since jobs and the CLI run them too.
- "In a transaction" means the hook runs inside the database transaction of the state
  change: raising aborts the whole change and nothing is written. Display hooks (slots)
  are isolated: a failing implementation is logged and skipped, the page still renders.
- What stays in the transaction and what runs after commit: keep inside it only what must
  never be lost or doubled with the change, money and what money depends on (stock, a
  coupon's redemption, points, the commission ledger a refund reverses); record everything
  else (statistics, levels, rule tags, attribution roll-ups, notices, contact windows) with
  ``siyu.plugin.after_commit`` and do it in a task of ``register_outbox_tasks``: it runs once
  after the commit, never for a change that rolled back, and keeps the payment short.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from siyu.core import hookspec

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only

    import click
    import pluggy
    from sqlalchemy.orm import Session

    from siyu.core.kernel import Kernel
    from siyu.core.models import AfterSale, Member, Order, Payment, Product, Refund, Shipment
    from siyu.core.pricing import Adjustment, PricedCart


# --------------------------------------------------------------------------- app setup


@hookspec(historic=True)
def register_hookspecs(pm: "pluggy.PluginManager") -> None:
    """Add a plugin's own hook specifications with ``pm.add_hookspecs(module)``.

    Called once for every plugin as it is registered, at start-up (historic), so a plugin
    can offer hooks to other plugins without either importing the other.
    Not in a transaction.
    """


@hookspec
def register_migrations(register: Callable[[str, str], None]) -> None:
    """Contribute an Alembic branch: ``register(branch_label, versions_directory)``.

    The directory holds the plugin's revision scripts; its first revision carries
    ``branch_labels = ("<plugin name>",)`` and ``depends_on`` the core revision whose
    tables it references. ``flask siyu db upgrade`` upgrades every enabled branch to its
    head; nothing migrates implicitly at start-up. Not in a transaction.
    """


@hookspec
def register_payment_providers(register: Callable[[Any], None]) -> None:
    """Contribute payment gateways: ``register(gateway)``.

    A gateway implements ``siyu.plugin.PaymentGateway`` (docs/plugin-api.md, "Payment
    gateways"): ``name`` (stable id, also its notification URL ``/webhooks/<name>``),
    ``label``, ``supports`` (currencies, partial refunds, client environments), and start,
    pay_action, confirm, parse_notification, reply, query, cancel and refund. A gateway
    lacking part of the contract is refused at start-up, by name. The core's default plugins
    register ``stripe`` (PaymentIntents) and ``manual`` (bank transfer / pay on delivery).
    Not in a transaction.
    """


@hookspec
def register_settings_schemas(register: Callable[[str, Any], None]) -> None:
    """Declare a plugin's settings: ``register(plugin_name, schema)``.

    ``schema`` is a marshmallow ``Schema`` (class or instance) whose fields have
    ``load_default`` values and ``metadata={"label": ..., "help": ...}``. The back office
    generates the settings form from it and stores the validated values in the core
    ``settings`` table under ``plugin_name``; read them with
    ``siyu.core.settings.get_all(session, plugin_name)``. Called once at start-up.
    Not in a transaction.
    """


@hookspec
def on_demo_seeded(kernel: Any, session: "Session") -> None:
    """The demo shop's products, members (with addresses) and their orders in every state
    were just loaded (``flask siyu seed --demo``).

    Add your plugin's demo data so a newcomer sees it working: a curated catalog, a coupon,
    a channel, a distributor with referred orders (``siyu.core.demo_orders.demo_order``
    places back-dated orders through the real services). Must be idempotent (the command
    may run again). Not in a transaction: write inside your own ``write_transaction(session)``.
    """


@hookspec
def register_commands(cli: "click.Group") -> None:
    """Add click commands to the ``flask siyu`` group (``@cli.command()``).

    Each application has a group of its own, so an app without your plugin lists none of
    your commands, and you never need to check whether a command is there already. Called
    once while the application is created. Not in a transaction.
    """


@hookspec
def register_jobs(register: Callable[..., None]) -> None:
    """Contribute background jobs: ``register(name, func, retries=3, retry_delay=30,
    every_minutes=None, daily_at=None, label=None)``.

    ``func(kernel, *args, **kwargs)`` runs in the worker (``flask siyu worker``), never in
    a request; enqueue it with ``siyu.plugin.jobs.enqueue(kernel, name, ...)`` after the
    transaction that prepared it. A job may be retried: make it resumable and idempotent,
    and keep its progress in the database.

    A job with a schedule is run by the worker as ``func(kernel)``, at most once per slot
    across workers, and is not queued by name: ``every_minutes`` (1–59) at the minutes of
    the hour divisible by it, ``daily_at="03:30"`` once a day at that time in the shop's
    time zone (a slot missed while no worker ran runs when one starts). ``label`` (a lazy
    string) names it in the back office (Settings → Scheduled jobs), which shows its last
    run, last error and next slot. Housekeeping needs no cron. Called once per kernel.
    Not in a transaction.
    """


@hookspec
def register_outbox_tasks(register: Callable[..., None]) -> None:
    """Contribute follow-up work that runs after a state change commits:
    ``register(name, func, max_attempts=None, label=None)``.

    A transactional hook records it with ``siyu.plugin.after_commit(kernel, session, name,
    key=..., payload={...}, order_id=...)``; once the transaction commits,
    ``func(kernel, session, payload)`` runs in a write transaction of its own: right after the
    commit in the committing process (``OUTBOX_INLINE``, the default), else in the worker. It
    runs once per (plugin, task, key) across workers and hosts (its writes and the entry's
    ``done`` mark commit together), in the order recorded among one plugin's entries of one
    order; nothing is recorded for a change that rolls back, nothing is lost by a crash after
    the commit (the worker runs it when it starts). Raising rolls the task's writes back and
    retries it with backoff (30 s, doubling, at most an hour) up to ``max_attempts`` (default
    ``OUTBOX_MAX_ATTEMPTS``, 8); then the entry is failed and shown in the back office
    (Settings → Follow-up work) with a retry button. Name tasks after your plugin
    (``crm_tags.order_paid``). Called once per kernel. Not in a transaction.
    """


# ----------------------------------------------------------------------------- visits


@hookspec
def attribution_from_request(
    args: Mapping[str, str], path: str, session: "Session"
) -> Sequence[tuple[str, str]] | None:
    """Read inbound attribution from a storefront request.

    Receives the query arguments and the path of any storefront GET. Returns
    ``[(source, value), ...]`` such as ``[("ref", "k3J9x")]`` or ``[("channel", "42")]``;
    the core records each as a touch for the visitor (cookie ``siyu_vid``) and binds the
    visitor's touches to the member at sign-up and at checkout. Return only values you
    have validated; unknown codes should be ignored silently. Not in a transaction.
    """


# ---------------------------------------------------------------------------- catalog


@hookspec(firstresult=True)
def catalog_products(session: "Session", sort: str) -> Sequence["Product"] | None:
    """Decide which active products the storefront home lists, in order.

    ``sort`` is one of the values returned by ``catalog_sorts``. The core's default plugin
    (``trylast``) lists every active product; a curation plugin returns its capped
    catalog instead. The rendered list is cached per catalog revision, locale, sort and
    set of plugins: whatever changes your answer for another reason (a time window, a
    setting) must call ``siyu.core.settings.bump_catalog_revision(session)``.
    Not in a transaction (read only).
    """


@hookspec(firstresult=True)
def catalog_sorts() -> Sequence[str] | None:
    """Decide which sort orders the storefront offers: a list of ``position``,
    ``newest``, ``price_asc``, ``price_desc``.

    The first is the default. The core offers all four; a plugin that wants no price
    comparison returns ``["position"]``. Not in a transaction.
    """


# ---------------------------------------------------------------------------- pricing


@hookspec
def cart_adjustments(
    kernel: "Kernel", cart: "PricedCart", stage: str, session: "Session", member: "Member | None"
) -> Sequence["Adjustment"] | None:
    """Contribute price adjustments for one pricing stage; return a list or ``None``.

    The engine calls this once per stage, in order: ``item`` (per-line prices such as a
    member price; set ``Adjustment.sku``), ``order`` (coupons, spend thresholds),
    ``redemption`` (points), ``fee`` (positive amounts such as shipping). ``cart`` carries
    the running totals after the previous stages, what applied so far (``cart.adjustments``,
    ``line.adjustments``) and ``cart.inputs`` (the checkout form and ``pricing_inputs``).
    Amounts are integer minor units, negative for a discount; the engine clamps discounts
    so that no line and no total goes below zero, and keeps each adjustment as a line on
    the order.

    Say what an adjustment is and what it combines with; without it, everything stacks:

    - ``kind`` names it (``member_price``, ``group_price``, ``coupon``, ``points``).
    - ``exclusive=True``: of the exclusive proposals for one line (``item``) or the cart
      (later stages), only the best for the shopper applies; the bundled member price is one.
    - ``excludes=("member_price", "coupon")``: proposals of those kinds for the same line or
      cart are dropped in this stage, and later stages leave its line out: a coupon of an
      excluded kind cannot discount it (``line.accepts("coupon")`` is false; the engine caps
      a cart-wide discount at the lines that accept it, and drops it when none does).
    - ``unit_price`` and ``max_quantity`` (``item``): "at most N units at this price"; the
      engine prices ``min(quantity, N)`` units so and leaves the rest at the regular price.

    The choice is deterministic: ``excludes`` first, in the stage's order (priority,
    source, code), then the contest of exclusive ones (ties go to the first in that order);
    every proposal not applied is in ``cart.dropped``, with ``dropped_reason`` and
    ``dropped_by``. To see the other proposals of your stage before the engine decides,
    implement this hook as a wrapper (``@hookimpl(wrapper=True)``): ``proposals = yield``
    gives the other implementations' lists; return them with yours added.

    Called for the cart page and the checkout page as well (nothing is written then). Runs
    in the checkout transaction when an order is placed; raising aborts the checkout with a
    clear error (fail closed).
    """


@hookspec
def pricing_inputs(
    kernel: "Kernel", session: "Session", member: "Member | None", items: Mapping[int, int],
    inputs: Mapping[str, str], where: str, browser: Mapping[str, Any],
) -> Mapping[str, str] | None:
    """Contribute pricing inputs before a cart is priced: a mapping merged into ``cart.inputs``.

    Called each time a shopper's cart is priced: ``where`` is ``cart`` (the cart page),
    ``checkout`` (the checkout page) or ``order`` (placing it, in the checkout transaction),
    so the pages show the price the order is placed at. ``items`` is ``{product_id:
    quantity}``; ``inputs`` what the caller gave (the checkout form's fields); ``browser``
    the shopper's browser session as plain values in the storefront (say, the group a
    plugin's page let them join), empty elsewhere (the API, jobs). All read-only.

    Return string keys and values, prefixed with your plugin's name (``group_buy.group``):
    the caller's inputs win over yours (a shopper's choice is never overridden), and of two
    plugins giving one key the first called wins. Fail closed: raising refuses the pricing.
    """


# ----------------------------------------------------------------------------- orders


@hookspec
def on_order_placed(kernel: "Kernel", session: "Session", order: "Order", cart: "PricedCart",
                    attribution: Mapping[str, Any]) -> None:
    """An order was placed: stock is reserved, lines and adjustments are written.
    ``order.visitor_id`` is the browser's visitor; ``attribution`` what the storefront read
    from the request about where the shopper came from, by plugin (the storefront's
    ``request_attribution``; empty from the API, jobs and the CLI).

    In the checkout transaction: reserve what you need (a coupon, points); raising aborts
    the order and releases everything. Record the rest (attribution roll-ups, statistics)
    with ``after_commit``.
    """


@hookspec
def on_order_paid(kernel: "Kernel", session: "Session", order: "Order", payment: "Payment") -> None:
    """An order moved from placed to paid (card webhook, or staff confirming a manual
    payment).

    In the same transaction as the state change, which happens exactly once per order even
    when a webhook is replayed or delivered concurrently: accrue commission, redeem a
    coupon here (money: never lost, never doubled). Raising aborts the change; the webhook
    answers 500 and the provider retries later. Member statistics, levels, rule tags,
    channel roll-ups and contact windows are not money: record them with ``after_commit``
    (key ``order:<id>:paid``), so the payment's transaction stays short.
    """


@hookspec
def on_order_refunded(kernel: "Kernel", session: "Session", order: "Order", refund: "Refund") -> None:
    """A refund succeeded; ``refund.amount`` of ``order.total`` has been returned and
    ``order.refunded_amount`` includes it (partial when it is below the total).

    In the refund's transaction: reverse commission proportionally, reverse points (money).
    Statistics, tags, roll-ups and the shopper's notice after commit (``after_commit``,
    key ``refund:<refund.id>``: an order may be refunded in several parts).
    """


@hookspec
def on_order_cancelled(kernel: "Kernel", session: "Session", order: "Order", reason: str) -> None:
    """An unpaid order was cancelled; its stock is already released.

    ``reason`` is the core's (``customer``, ``staff``, ``payment_failed``, ``expired``) or a
    plugin's own, namespaced by the plugin: ``cancel_order(kernel, session, order,
    "group_buy:failed")`` (at most 32 characters: lower case letters, digits, ``_ . -``).
    The back office shows the label a plugin gave it with
    ``siyu.plugin.register_cancel_reason("group_buy:failed", _l("The group did not fill"))``,
    else the reason as it is.

    In the cancelling transaction: release coupon reservations and similar holds; anything
    else after commit (``after_commit``).
    """


# ------------------------------------------------------------------------ fulfilment


@hookspec
def on_order_shipped(kernel: "Kernel", session: "Session", order: "Order", shipment: "Shipment") -> None:
    """A parcel left (or a pickup order was handed over): ``shipment`` carries its carrier,
    tracking number and lines with quantities.

    Runs for every new shipment, once (an import run twice adds nothing); ``order.status``
    is ``shipped`` when this shipment completed the order, and stays ``paid`` /
    ``partially_refunded`` while lines are still to ship. In the shipping transaction:
    raising aborts the shipment and nothing is written. Notices (the core's shipped card)
    and statistics run after commit (``after_commit``, key ``shipment:<shipment.id>``).
    """


@hookspec
def on_order_completed(kernel: "Kernel", session: "Session", order: "Order", how: str) -> None:
    """An order completed (``order.completed_at`` is set): ``how`` is ``member`` (the shopper
    confirmed receipt), ``auto`` (``auto_complete_days`` after shipping) or ``staff``.

    Happens once per order. Earn points, release commission here, in the completing
    transaction (raising aborts the completion); count the order toward levels and post
    notices after commit (``after_commit``, key ``order:<id>:completed``).
    """


@hookspec
def on_after_sale_requested(kernel: "Kernel", session: "Session", order: "Order",
                            after_sale: "AfterSale") -> None:
    """A shopper asked for after-sales on one line: ``after_sale.kind`` is ``refund_only``
    or ``return_refund``, with ``reason``, ``quantity`` and ``amount`` (never more than was
    paid for the line).

    In the request's transaction: raising refuses the request and nothing is written.
    """


@hookspec
def on_after_sale_decided(kernel: "Kernel", session: "Session", order: "Order", after_sale: "AfterSale",
                          decision: str) -> None:
    """Staff decided an after-sales request: ``decision`` is ``approved`` or ``rejected``
    (``after_sale.decision_note`` holds the reason given to the shopper).

    The refund itself comes later through the refund service, so ``on_order_refunded``
    reverses commission and points as for any refund. In the decision's transaction:
    raising aborts it and the request keeps its state; the shopper's notice is posted
    after commit (``after_commit``).
    """
