"""Build and sign Stripe-style webhook events the way Stripe does (t=...,v1=HMAC)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

SECRET = "whsec_test_siyu"


def sign(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def intent_event(kind: str, intent_id: str, amount: int, event_id: str | None = None, **extra) -> bytes:
    obj = {"id": intent_id, "object": "payment_intent", "amount": amount, "currency": "cny", **extra}
    event = {"id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind,
             "created": int(time.time()), "data": {"object": obj}}
    return json.dumps(event).encode()


def post(client, payload: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post("/webhooks/stripe", data=payload, headers=headers)
