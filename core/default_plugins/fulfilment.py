"""Fulfilment's replaceable parts: the completion sweep as a job (a scheduler, once there
is one, or ``flask siyu complete-orders`` runs it; pages sweep on read meanwhile)."""
from siyu.core import hookimpl


def complete_due_orders(kernel) -> int:
    from siyu.core.fulfilment import complete_due

    session = kernel.db.Session()
    try:
        return complete_due(kernel, session)
    finally:
        session.close()


@hookimpl(trylast=True)
def register_jobs(register):
    register("complete_due_orders", complete_due_orders, retries=3, retry_delay=60)
