"""Hooks the qr_channels plugin offers other plugins (added with ``register_hookspecs``).

Other plugins call them with ``call_service(kernel, "qr_channels_from_wechat_event", ...)``
(``NOT_AVAILABLE`` when this plugin is not enabled) and implement them with
``@hookimpl(optionalhook=True)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siyu.plugin import hookspec

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from siyu.plugin import Member, Order, Touch


@hookspec
def qr_channels_on_attributed(kernel: Any, session: "Session", member: "Member", channel: Any, touch: "Touch",
                              order: "Order | None", model: str) -> None:
    """A member or an order was attributed to a channel.

    At sign-up (``order`` is ``None``, ``model == "first"``): ``channel`` is the first-touch
    channel, the one that brought the member — e.g. a CRM tags "source: <channel.name>".
    When an order is placed (``model == "last"``): ``channel`` is the order's last-touch
    channel within the window. ``channel`` has ``id``, ``name``, ``kind`` and ``scene``;
    ``touch`` is the core ``Touch`` it came from. In the sign-up or checkout transaction:
    raising aborts it.
    """


@hookspec(firstresult=True)
def qr_channels_target_url(target: str, value: str) -> str | None:
    """The local path a scan of a channel with this target lands on, e.g. a coupons plugin
    answers ``target == "coupon"`` with its claim page for code ``value``.

    Return a path starting with ``/`` or ``None``; without an answer a coupon target lands
    on the home page. Not in a transaction.
    """


@hookspec(firstresult=True)
def qr_channels_from_wechat_event(session: "Session", event: str, event_key: str) -> Any:
    """The active channel a WeChat official-account event came through, or ``None``.

    For adapters: ``subscribe`` with EventKey ``qrscene_<scene>`` and ``SCAN`` with
    ``<scene>`` both resolve; the adapter then records ``("channel", str(channel.id))`` as a
    touch for the follower. The qr_channels plugin answers it. Read only.
    """
