"""Background jobs: functions a plugin registers with ``register_jobs`` and queues by name.

``jobs.enqueue(kernel, "crm_tags.recompute", member_id)`` runs after the current request in the
worker (``flask siyu worker``); ``jobs.run_pending(kernel)`` runs queued jobs in this process
(tests, the demo).
"""
from siyu.core.jobs import enqueue, run_pending

__all__ = ["enqueue", "run_pending"]
