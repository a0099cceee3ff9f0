"""The outbox's runs as the worker's jobs (``siyu.core.outbox_runner``): every minute, at the
worker's start too (retries that came due, whatever a crash left), and on demand when a commit
recorded work and the shop runs it in the worker (``OUTBOX_INLINE`` off)."""
from siyu.core import hookimpl
from siyu.core.i18n import lazy_gettext as _l


def _scheduled(kernel):
    from siyu.core.outbox_runner import scheduled_run

    return scheduled_run(kernel)


def _queued(kernel):
    from siyu.core.outbox_runner import queued_run

    return queued_run(kernel)


@hookimpl(trylast=True)
def register_jobs(register):
    from siyu.core.outbox_runner import RUN_JOB, SCHEDULED_JOB

    register(SCHEDULED_JOB, _scheduled, retries=0, every_minutes=1, label=_l("Run follow-up work after commits"))
    register(RUN_JOB, _queued, retries=0)
