"""Why an order was cancelled: the core's reasons and the namespaced ones of plugins.

``Order.cancel_reason`` holds a short code (at most 32 characters). The core cancels with
``customer``, ``staff``, ``payment_failed`` and ``expired``; a plugin cancels with its own
reason, namespaced by its name (``group_buy:failed``), and may give it a label that the back
office shows (``register_cancel_reason``); a reason without one is shown as it is.
"""
from __future__ import annotations

import re
from typing import Any

from siyu.core.i18n import lazy_gettext as _l

MAX_LENGTH = 32  # Order.cancel_reason's column
CORE_REASONS: dict[str, Any] = {
    "customer": _l("Cancelled by the customer"),
    "staff": _l("Cancelled by the shop"),
    "payment_failed": _l("The payment failed"),
    "expired": _l("Not paid in time"),
}
NAMESPACED = re.compile(r"[a-z][a-z0-9_]*:[a-z0-9][a-z0-9_.-]*")
_labels: dict[str, Any] = {}


def check_reason(reason: object) -> str:
    """``reason`` when an order may be cancelled with it, else a ``ValueError`` saying why."""
    if not isinstance(reason, str) or len(reason) > MAX_LENGTH:
        raise ValueError(f"a cancel reason is a string of at most {MAX_LENGTH} characters: {reason!r}")
    if reason not in CORE_REASONS and not NAMESPACED.fullmatch(reason):
        raise ValueError(f"a plugin's cancel reason is namespaced by the plugin, such as "
                         f"'group_buy:failed' (lower case letters, digits, _ . -): {reason!r}")
    return reason


def register_cancel_reason(reason: str, label: Any) -> None:
    """Give a plugin's reason (``group_buy:failed``) a label, usually a lazy string
    (``_l("The group did not fill in time")``). Call it when the plugin's module is imported."""
    if reason in CORE_REASONS or not NAMESPACED.fullmatch(check_reason(reason)):
        raise ValueError(f"only a namespaced plugin reason takes a label: {reason!r}")
    _labels[reason] = label


def cancel_reason_label(reason: str | None) -> str:
    """The reason in words, in the current locale: a core or registered label, else the code."""
    if not reason:
        return ""
    label = CORE_REASONS.get(reason) or _labels.get(reason)
    return str(label) if label is not None else reason
