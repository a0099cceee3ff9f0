"""Hooks the distribution plugin offers to other plugins (added with ``register_hookspecs``)."""
from __future__ import annotations

from typing import Any, Callable

from siyu.plugin import hookspec


@hookspec
def distribution_register_payout_providers(register: Callable[[Any], None]) -> None:
    """Contribute payout providers that send a distributor's withdrawal: ``register(provider)``.

    A provider has ``name`` (stable id), ``label`` (lazy-translatable) and
    ``send(session, payout, distributor) -> str`` returning the provider's transfer reference
    (raise to report a failure: the payout stays approved and can be retried or paid by hand).
    ``send`` runs after the approval committed, never inside a transaction. Without a
    provider the owner transfers the money and marks the payout paid ("manual").
    Called once at start-up. Not in a transaction.
    """


@hookspec
def distribution_on_payout_paid(kernel: Any, session: Any, payout: Any, distributor: Any) -> None:
    """A payout was marked paid (by the owner or a provider).

    In the transaction that records it: raising aborts it and nothing is written.
    """
