"""Helpers for the conversation tests: a card plugin, staff sign-in, CSRF for JSON posts."""
from __future__ import annotations

import re

from markupsafe import Markup

from siyu.core import hookimpl
from siyu.core.cards import CardAction, CardChoice, CardType
from siyu.core.errors import ValidationError

CSRF_DATA = re.compile(r'data-csrf="([^"]+)"')


class GiftCards:
    """A coupon-like card: "claim" runs once per member and message."""

    def __init__(self):
        self.claims: list[tuple[int, int]] = []
        self.stock = 1000

    def claim(self, session, member, message, payload):
        if self.stock <= 0:
            raise ValidationError("All gifts have been claimed.")
        self.stock -= 1
        self.claims.append((member.id, message.id))
        return {"message": f"Claimed {payload['title']}", "code": "GIFT-1"}

    @hookimpl
    def register_card_types(self, register):
        register(CardType(
            name="gift", label="Gift",
            render_member=lambda payload, state: Markup("<strong>{}</strong>").format(payload["title"]),
            render_agent=lambda payload, state: Markup("<em>{}</em> ({})").format(
                payload["title"], "claimed" if "claim" in state else "open"),
            summary=lambda payload: f"Gift: {payload['title']}",
            actions={"claim": CardAction("Claim", self.claim)},
            choices=lambda session: [CardChoice("tea", "Tea sample", {"title": "Tea <sample>"})],
        ))


def json_headers(client, path="/chat"):
    html = client.get(path).get_data(as_text=True)
    match = CSRF_DATA.search(html)
    assert match, f"no data-csrf on {path}"
    return {"X-CSRFToken": match.group(1), "Accept": "application/json"}


def staff_login(client, email, password):
    from conftest import csrf

    token = csrf(client, "/admin/login")
    response = client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response
