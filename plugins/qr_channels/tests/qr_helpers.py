"""The qr_channels tests' own helpers (the generic ones, factories, CSRF, sign-in and the
checkout, come from ``siyu.plugin.testing``)."""
from __future__ import annotations

from siyu.plugin.testing import submit

OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40")


def signup(client, email="buyer@example.com", password="correct-horse"):
    response = submit(client, "/account/signup", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
