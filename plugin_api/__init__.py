"""Siyu's public plugin API, web-free: the names a plugin may import, stable across minor versions.

``from siyu.plugin import hookimpl, write_transaction, Order, place_order`` — everything a plugin
needs from the core, whether it runs in a request, a job or the CLI. The Flask pieces are in
:mod:`siyu.plugin.web`, the test kit in :mod:`siyu.plugin.testing`. docs/plugin-api.md describes
each name and the stability policy: semantic versioning; a name removed or renamed keeps working,
with a ``DeprecationWarning``, for one minor version. Anything imported from ``siyu.core`` or
``siyu.storefront`` directly is internal and may change in any release.

Submodules with a small namespace of their own: :mod:`siyu.plugin.settings` (a plugin's stored
settings), :mod:`siyu.plugin.jobs` (background jobs), :mod:`siyu.plugin.migrate` (a shop's
database schema), :mod:`siyu.plugin.after_sales` (returns and refunds after delivery).
"""
from __future__ import annotations

import warnings
from typing import Any

# Hooks
from siyu.core import __version__, hookimpl, hookspec
from siyu.core.hooks import NOT_AVAILABLE, call_in_transaction, call_service
from siyu.core.kernel import Kernel

# Errors
from siyu.core.errors import (
    InvalidTransition, NotFound, OutOfStock, PaymentError, PluginError, ProviderUnavailable, SiyuError,
    ValidationError,
)

# Money: integer minor units
from siyu.core.money import (
    MAX_AMOUNT, SUPPORTED_CURRENCIES, AmountError, allocate, exponent, format_money, parse_decimal,
    parse_major, percent_of, to_decimal,
)

# The unit of work and model building blocks
from siyu.core.db import Base, UTCDateTime, utcnow, write_transaction
from siyu.core.outbox import after_commit

# Models a plugin may read (and join to); the core's services change them
from siyu.core.models import (
    PAID_STATES, TO_SHIP_STATES, AfterSale, AfterSaleState, ApiToken, Broadcast, Conversation, Member,
    MemberAddress, MemberInteraction, Message, Order, OrderAdjustment, OrderLine, OrderStatus, Payment,
    PaymentStatus, Product, ProductImage, Refund, RefundStatus, Shipment, StaffUser, Touch,
)
from siyu.core.models.fulfilment import OPEN_AFTER_SALE_STATES

# Pricing
from siyu.core.pricing import STAGES as PRICING_STAGES, Adjustment, PricedCart, PricedLine, apply_adjustment

# Order services
from siyu.core.orders import (
    cancel_order, confirm_manual_payment, expire_unpaid, mark_paid, place_order, quote, settle_free_order,
)
from siyu.core.cancel_reasons import cancel_reason_label, register_cancel_reason
from siyu.core.refunds import refund_order

# Payment gateways
from siyu.core.payments.gateway import (
    ClientEnvironment, GatewayEvent, GatewaySupport, NotificationReply, PayAction, PaymentGateway, SignatureError,
)
from siyu.core.fulfilment import confirm_receipt, ship_order
from siyu.core.addresses import add_address
from siyu.core.demo_orders import demo_order

# Members, staff and their rights
from siyu.core.members import record_touches, sign_up
from siyu.core.staff import create_staff, may
from siyu.core.member_rights import anonymise_member, export_member
from siyu.core.metrics import repurchase_rate

# Conversations: channels, cards, broadcasts
from siyu.core.channels import WEB, WECHAT_STYLE, Channel, ProactivePolicy, aware_now, can_send, channels, closing_soon
from siyu.core.cards import CardAction, CardChoice, CardType, perform_action, send_card, send_choice
from siyu.core.conversations import (
    conversation_for, deliver_pending, post_outbound, receive_message, record_interaction, send_message,
)
from siyu.core.broadcasts import Audience, create_broadcast

# Text: validation and translation
from siyu.core.validation import MAX_ID, check_name, is_id, name_problem, to_int
from siyu.core.i18n import current_locale, gettext, lazy_gettext

__all__ = [
    "__version__", "hookimpl", "hookspec", "call_in_transaction", "call_service", "NOT_AVAILABLE", "Kernel",
    "SiyuError", "ValidationError", "NotFound", "OutOfStock", "InvalidTransition", "PaymentError",
    "ProviderUnavailable", "PluginError",
    "MAX_AMOUNT", "SUPPORTED_CURRENCIES", "AmountError", "allocate", "exponent", "format_money",
    "parse_decimal", "parse_major", "percent_of", "to_decimal",
    "Base", "UTCDateTime", "utcnow", "write_transaction", "after_commit",
    "PAID_STATES", "TO_SHIP_STATES", "OPEN_AFTER_SALE_STATES", "AfterSale", "AfterSaleState", "ApiToken",
    "Broadcast", "Conversation", "Member", "MemberAddress", "MemberInteraction", "Message", "Order",
    "OrderAdjustment", "OrderLine", "OrderStatus", "Payment", "PaymentStatus", "Product", "ProductImage",
    "Refund", "RefundStatus", "Shipment", "StaffUser", "Touch",
    "PRICING_STAGES", "Adjustment", "PricedCart", "PricedLine", "apply_adjustment",
    "cancel_order", "confirm_manual_payment", "expire_unpaid", "mark_paid", "place_order", "quote",
    "settle_free_order", "register_cancel_reason", "cancel_reason_label", "refund_order", "confirm_receipt",
    "ship_order", "add_address", "demo_order",
    "PaymentGateway", "GatewaySupport", "ClientEnvironment", "PayAction", "GatewayEvent", "NotificationReply",
    "SignatureError",
    "record_touches", "sign_up", "create_staff", "may", "anonymise_member", "export_member",
    "repurchase_rate",
    "WEB", "WECHAT_STYLE", "Channel", "ProactivePolicy", "aware_now", "can_send", "channels",
    "closing_soon", "CardAction", "CardChoice", "CardType", "perform_action", "send_card", "send_choice",
    "conversation_for", "deliver_pending", "post_outbound", "receive_message", "record_interaction",
    "send_message", "Audience", "create_broadcast",
    "MAX_ID", "check_name", "is_id", "name_problem", "to_int", "current_locale", "gettext", "lazy_gettext",
]

#: Names that were public and are going away: old name -> (new name, removed in version).
_DEPRECATED: dict[str, tuple[str, str]] = {}


def __getattr__(name: str) -> Any:
    # A deprecated name keeps working for one minor version, with a warning naming its successor.
    if name in _DEPRECATED:
        new, removed_in = _DEPRECATED[name]
        warnings.warn(f"siyu.plugin.{name} is deprecated and goes in {removed_in}: use {new}",
                      DeprecationWarning, stacklevel=2)
        return globals()[new]
    raise AttributeError(f"module 'siyu.plugin' has no attribute {name!r}")
