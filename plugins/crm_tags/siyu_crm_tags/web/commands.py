"""``flask siyu crm ...``: the recompute with progress, and the points expiry run."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask.cli import with_appcontext

from siyu.plugin.web import db, kernel

from siyu_crm_tags import points, recompute


@click.group("crm")
def crm_group():
    """Member tags, points and levels."""


@crm_group.command("recompute")
@click.option("--batch", default=recompute.BATCH, show_default=True, type=click.IntRange(1, 10000))
@with_appcontext
def recompute_command(batch):
    """Recompute stats, levels and rule tags for every member (resumes an interrupted run)."""
    def report(job):
        click.echo(f"job {job.id}: {job.processed}/{job.total} members ({job.progress}%), cursor {job.cursor}")

    job = recompute.run(kernel(), db(), batch=batch, progress=report)
    click.echo(f"job {job.id}: {job.status}")


@crm_group.command("expire-points")
@click.option("--now", default=None, help="ISO time to expire at (UTC); default: now")
@with_appcontext
def expire_command(now):
    """Expire points whose lots are due (run daily; expiry is exact either way)."""
    moment = datetime.fromisoformat(now).replace(tzinfo=timezone.utc) if now else None
    click.echo(f"{points.expire_due(kernel(), db(), moment)} points expired")
