"""``flask siyu checkin …``: streak reminders (run every few minutes, e.g. from cron or the
worker's ``checkin.remind`` job) and reward re-delivery."""
from __future__ import annotations

from contextlib import nullcontext

import click
from flask import has_app_context
from flask.cli import with_appcontext

from siyu.plugin import write_transaction
from siyu.plugin.web import db, kernel
from siyu_checkin import reminders, rewards
from siyu_checkin.web.clock import parse_now


@click.group("checkin")
def checkin_group():
    """Daily check-in: reminders and rewards."""


def member_locale(member):
    """The member's language for a message written outside a request."""
    if not has_app_context():
        return nullcontext()
    from flask_babel import force_locale

    from siyu.plugin import settings

    code = member.locale or settings.get(db(), "core", "default_locale") or "zh_CN"
    return force_locale(code)


@checkin_group.command("remind")
@click.option("--now", "now_text", default=None, help="ISO time with offset (default: now)")
@with_appcontext
def remind_command(now_text):
    """Remind members whose contact window closes soon and who have not checked in today."""
    try:
        moment = parse_now(now_text)
    except ValueError:
        raise click.BadParameter("use an ISO time such as 2026-05-01T20:00:00+08:00", param_hint="--now") from None
    report = reminders.send_reminders(kernel(), db(), moment, translate_for=member_locale)
    click.echo(f"due {report.due}, sent {report.sent}, checked in already {report.checked_in}, "
               f"window closed {report.closed}, reminded before {report.repeated}")


@checkin_group.command("retry-rewards")
@with_appcontext
def retry_command():
    """Deliver again rewards that failed or had no rewards plugin (idempotent)."""
    with write_transaction(db()):
        delivered = rewards.retry(kernel(), db())
    click.echo(f"{delivered} rewards delivered")


def remind_job(kernel_, now=None):
    """The worker's job: the same run as ``flask siyu checkin remind``."""
    session = kernel_.db.Session()
    try:
        return reminders.send_reminders(kernel_, session, parse_now(now)).__dict__
    finally:
        session.close()
