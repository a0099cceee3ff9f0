"""``flask siyu ...``: the shop's commands. Plugins add theirs through ``register_commands``,
into the group of each app (``cli_for``): an app without a plugin lists none of its commands."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from siyu.core import migrate
from siyu.storefront.context import db, kernel
from siyu.storefront.plugin_commands import plugins_command


@click.group("siyu")
def siyu_cli():
    """Siyu shop commands."""


siyu_cli.add_command(plugins_command)


def cli_for(kernel_) -> click.Group:
    """The ``flask siyu`` group of one app: the shop's commands and its plugins' own."""
    group = click.Group("siyu", commands=dict(siyu_cli.commands), help=siyu_cli.help)
    kernel_.pm.hook.register_commands(cli=group)
    return group


@siyu_cli.group("db")
def db_group():
    """Database migrations (Alembic, one branch per owner)."""


@db_group.command("upgrade")
@click.option("--target", default="heads", show_default=True)
@click.option("--plugin", "plugins", multiple=True, metavar="NAME",
              help="also an installed plugin that is not enabled yet (run before enabling it)")
@with_appcontext
def db_upgrade(target, plugins):
    """Upgrade the core and every enabled plugin's branch to its head (rows of disabled or
    uninstalled plugins are kept as they are)."""
    try:
        migrate.upgrade(kernel(), target, plugins)
    except migrate.NotInstalled as exc:
        raise click.BadParameter(f"no installed plugin {exc}", param_hint="--plugin") from exc
    except migrate.MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"database upgraded to {target}: {', '.join(sorted(migrate.current_heads(kernel())))}")


@db_group.command("revision")
@click.option("--branch", required=True, help="core or a plugin name")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="write an empty revision instead of autogenerating")
@with_appcontext
def db_revision(branch, message, empty):
    """Write a new revision on a branch (for developers)."""
    migrate.revision(kernel(), message, branch, autogenerate=not empty)


@siyu_cli.command("seed")
@click.option("--demo", is_flag=True, help="a bilingual demo shop with products and members")
@with_appcontext
def seed_command(demo):
    """Load demo data (idempotent: existing products are left alone)."""
    from siyu.storefront.demo import seed_demo

    created = seed_demo(kernel(), db()) if demo else 0
    click.echo(f"demo data: {created} products created")


@siyu_cli.command("create-owner")
@click.option("--email", prompt=True)
@click.option("--name", default="")
@click.password_option(help="at least 12 characters")
@with_appcontext
def create_owner(email, name, password):
    """Create a shop owner account for the back office (/admin)."""
    from siyu.core.errors import ValidationError
    from siyu.core.staff import create_staff

    try:
        staff = create_staff(db(), email=email, password=password, role="owner", name=name)
    except ValidationError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}") from exc
    click.echo(f"owner {staff.email} created; sign in at /admin")


@siyu_cli.command("expire-orders")
@with_appcontext
def expire_orders():
    """Cancel unpaid orders whose stock reservation ran out, now (optional: checkouts release
    overdue orders on read and `flask siyu worker` sweeps them every minute)."""
    from siyu.core.orders import expire_unpaid

    click.echo(f"{expire_unpaid(kernel(), db())} orders expired")


@siyu_cli.command("unlock-signin")
@click.argument("email")
@click.option("--staff", is_flag=True, help="the back-office sign-in (default: the shop's)")
@with_appcontext
def unlock_signin(email, staff):
    """Lift the sign-in lock of EMAIL after repeated wrong passwords (an owner locked out)."""
    from siyu.core import signin
    from siyu.core.members import normalise_email

    realm = "staff" if staff else "member"
    lifted = signin.clear(db(), realm, normalise_email(email))
    click.echo(f"{realm} sign-in for {email}: " + ("unlocked" if lifted else "had no failed attempts"))


@siyu_cli.command("mark-paid")
@click.argument("number")
@with_appcontext
def mark_paid_command(number):
    """Confirm a manual payment (bank transfer / pay on delivery) for order NUMBER."""
    from siyu.core.models import Order
    from siyu.core.orders import confirm_manual_payment

    order = db().scalar(select(Order).where(Order.number == number))
    if order is None:
        raise click.ClickException(f"no order {number}")
    confirm_manual_payment(kernel(), db(), order)
    click.echo(f"{number} marked paid")


@siyu_cli.command("refund")
@click.argument("number")
@click.option("--amount", type=int, help="minor units; default the whole refundable amount")
@click.option("--key", help="idempotency key; reuse it to retry safely")
@with_appcontext
def refund_command(number, amount, key):
    """Refund order NUMBER fully or partially."""
    from siyu.core.models import Order
    from siyu.core.refunds import refund_order

    order = db().scalar(select(Order).where(Order.number == number))
    if order is None:
        raise click.ClickException(f"no order {number}")
    from siyu.core.errors import SiyuError

    key = key or f"cli-{secrets.token_hex(8)}"
    try:
        refund = refund_order(kernel(), db(), order, amount or order.refundable_amount, key)
    except SiyuError as exc:  # said plainly: a cancelled order's payment is refunded automatically
        raise click.ClickException(f"{exc.message} (key {key})") from exc
    click.echo(f"refund {refund.id} {refund.status}: {refund.amount} {refund.currency} (key {key})")


@siyu_cli.command("payment-alarms")
@click.option("--retry-refunds", is_flag=True, help="ask the provider again for pending automatic refunds")
@with_appcontext
def payment_alarms_command(retry_refunds):
    """List open payment alarms (money taken for a cancelled order, unreadable intents) with
    their refund's outcome; --retry-refunds retries pending automatic refunds (same key)."""
    from siyu.core.errors import PaymentError
    from siyu.core.models import Order, Refund
    from siyu.core.payments.alarms import open_alarms
    from siyu.core.refunds import pending_auto_refunds, send_auto_refund

    failed = 0
    if retry_refunds:
        for refund in pending_auto_refunds(db()):
            try:
                send_auto_refund(kernel(), db(), refund)
            except PaymentError as exc:
                failed += 1
                click.echo(f"refund {refund.id}: not completed yet: {exc.message}", err=True)
    for alarm in open_alarms(db(), limit=1000):
        order = db().get(Order, alarm.order_id)
        refund = db().get(Refund, alarm.refund_id) if alarm.refund_id else None
        outcome = f"refund {refund.status} {refund.amount} {refund.currency}" if refund else "no refund"
        click.echo(f"{alarm.last_seen_at:%Y-%m-%d %H:%M} {order.number} {alarm.kind} x{alarm.occurrences}: {outcome}")
    if failed:
        raise click.ClickException(f"{failed} automatic refunds could not be completed yet")


@siyu_cli.command("hooks-doc")
@click.option("--check", is_flag=True, help="fail if docs/hooks.md is stale")
@click.option("--output", default="docs/hooks.md", show_default=True)
def hooks_doc(check, output):
    """Generate docs/hooks.md from the hook docstrings."""
    from siyu.core.hookdoc import render

    text = render()
    path = Path(output)
    if check:
        if not path.exists() or path.read_text() != text:
            raise click.ClickException(f"{output} is stale: run 'flask siyu hooks-doc'")
        click.echo(f"{output} is up to date")
        return
    path.write_text(text)
    click.echo(f"wrote {output}")


@siyu_cli.command("new-plugin")
@click.argument("name")
@click.option("--dest", default=".", show_default=True, type=click.Path(file_okay=False),
              help="folder in which NAME/ is created")
def new_plugin(name, dest):
    """Generate a plugin distribution NAME/ (entry point, models, migration branch, pages, tests)."""
    from siyu.storefront.scaffold import ScaffoldError, generate

    try:
        target = generate(name, dest)
    except ScaffoldError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    click.echo(f"created {target}: pip install -e '{target}[test]' && python -m pytest {target / 'tests'}")


@siyu_cli.command("demo")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)), show_default="5000 or $PORT")
@click.option("--stripe-port", default=8420, show_default=True)
def demo_command(port, stripe_port):
    """Serve the demo shop on 127.0.0.1 with localstripe (no Stripe account needed), and run
    its jobs and schedule in a thread (a real shop runs `flask siyu worker` beside the web)."""
    from siyu.core.jobs import Worker
    from siyu.storefront import create_app, devstripe

    config = dict(SECURE_COOKIES=False)
    proc = None
    if not os.environ.get("SIYU_STRIPE_SECRET_KEY"):
        proc, base = devstripe.start(stripe_port)
        devstripe.register_webhook(base, f"http://127.0.0.1:{port}/webhooks/stripe")
        config.update(devstripe.dev_config(base))
        click.echo(f"localstripe (fake Stripe) at {base}; test card 4242 4242 4242 4242")
    app = create_app(config)
    worker = Worker(app.extensions["siyu"])
    worker.start()
    click.echo(f"Siyu demo at http://127.0.0.1:{port}; jobs run in this process")
    try:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)
    finally:
        worker.stop()
        if proc is not None:
            proc.terminate()


@siyu_cli.command("worker")
@click.option("--workers", default=1, show_default=True, help="worker threads")
@with_appcontext
def worker_command(workers):
    """Run the background job consumer: queued jobs (broadcasts, plugins' jobs) and the
    scheduled ones (Settings → Scheduled jobs), each slot once across workers."""
    from siyu.core.jobs import queue

    huey = queue(kernel())
    click.echo(f"siyu worker: {type(huey).__name__}, jobs: {', '.join(sorted(huey.siyu_tasks))}")
    for job in sorted(huey.siyu_schedules.values(), key=lambda j: j.name):
        when = job.schedule.daily_at.strftime("daily at %H:%M shop time") if job.schedule.daily_at \
            else f"every {job.schedule.every_minutes} min"
        click.echo(f"  scheduled: {job.name}, {when}")
    huey.create_consumer(workers=workers, worker_type="thread").run()
