"""Domain errors: each carries a user-facing message and, where useful, field errors.

Views turn them into an HTML message or a JSON problem with a 4xx status; they never
become a 500.
"""
from __future__ import annotations


class SiyuError(Exception):
    """Base class. ``status`` is the HTTP status a web layer should answer with."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **data):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.data = data

    def problem(self) -> dict:
        """An RFC 9457 style problem object."""
        body = {"type": f"about:siyu/{self.code}", "title": str(self.message), "status": self.status}
        if self.fields:
            body["errors"] = {key: str(value) for key, value in self.fields.items()}
        return body


class ValidationError(SiyuError):
    code = "validation"
    status = 422


class NotFound(SiyuError):
    code = "not-found"
    status = 404


class OutOfStock(SiyuError):
    code = "out-of-stock"
    status = 409


class InvalidTransition(SiyuError):
    """A state change that the order's current state does not allow."""

    code = "invalid-transition"
    status = 409


class PaymentError(SiyuError):
    """The payment provider failed or did not answer (an outage, a timeout, an unexpected
    answer): 502, the shop's gateway failed, not the shopper. Nothing was decided, so the
    same action may be retried. A declined card is not an error of this kind: the checkout
    answers that one with 402 itself."""

    code = "payment"
    status = 502


class ProviderUnavailable(PaymentError):
    """The provider could not be asked at all; retry later (503). A webhook answered so
    is delivered again by the provider."""

    code = "provider-unavailable"
    status = 503


class PluginError(SiyuError):
    """A plugin raised inside a transactional hook; the whole change was rolled back."""

    code = "plugin"
    status = 409
