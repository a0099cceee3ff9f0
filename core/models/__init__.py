"""Core models. Plugins define theirs on the same ``Base`` with a table prefix."""
from siyu.core.db import Base
from siyu.core.models.catalog import Product, ProductImage
from siyu.core.models.conversations import (
    Broadcast, CardActionResult, Conversation, MemberInteraction, Message,
)
from siyu.core.models.members import ApiToken, Member, SignInFailure, StaffUser, Touch
from siyu.core.models.orders import (
    PAID_STATES, TO_SHIP_STATES, Order, OrderAdjustment, OrderLine, OrderStatus,
)
from siyu.core.models.fulfilment import (
    AfterSale, AfterSaleKind, AfterSaleState, DeliveryMethod, MemberAddress, OrderDelivery, Shipment,
    ShipmentLine,
)
from siyu.core.models.payments import (
    Payment, PaymentAlarm, PaymentAlarmKind, PaymentStatus, Refund, RefundStatus, WebhookEvent,
)
from siyu.core.models.jobs import JobSlot
from siyu.core.models.outbox import OutboxEntry
from siyu.core.models.settings import Setting

__all__ = [
    "ApiToken", "Base", "Product", "ProductImage", "Member", "StaffUser", "Touch", "Order", "OrderLine",
    "OrderAdjustment", "OrderStatus", "Payment", "PaymentAlarm", "PaymentAlarmKind", "PaymentStatus",
    "Refund", "RefundStatus",
    "WebhookEvent", "Setting", "Broadcast", "CardActionResult", "Conversation", "MemberInteraction",
    "Message", "PAID_STATES", "TO_SHIP_STATES", "AfterSale", "AfterSaleKind", "AfterSaleState",
    "DeliveryMethod", "MemberAddress", "OrderDelivery", "Shipment", "ShipmentLine", "SignInFailure",
    "JobSlot", "OutboxEntry",
]
