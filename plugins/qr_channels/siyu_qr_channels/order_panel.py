"""The channel panel on the back-office order page: first- and last-touch channel seen when
the order was placed, and whether it was the member's first paid order."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from siyu_qr_channels.models import Channel, OrderAttribution


def order_panel(order, session, staff) -> Markup | None:
    row = session.get(OrderAttribution, order.id)
    if row is None:
        return None
    first = session.get(Channel, row.first_channel_id) if row.first_channel_id else None
    last = session.get(Channel, row.last_channel_id) if row.last_channel_id else None
    return Markup(render_template("qr_channels/admin/order_panel.html", row=row, first=first, last=last))
