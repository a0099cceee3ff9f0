"""Who brought a customer: clicks, the signed referral cookie, binding (锁客), order attribution.

- A click is counted once per link, visitor and day (unique constraint; duplicates are
  ignored by the database, not by a racy read).
- The referral cookie is signed with the shop's secret and carries its own timestamp:
  a tampered or expired cookie is ignored.
- Binding: first touch keeps the customer (default) or the last touch wins; the binding
  lasts ``binding_days`` (0 = for good). First and last touch are both kept.
- An order placed by a bound member records its distributor and the upline, frozen then.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from siyu.plugin import Order, Touch, utcnow, write_transaction

from siyu_distribution import config
from siyu_distribution.distributors import valid_code
from siyu_distribution.models import Binding, Click, Distributor, Link, OrderAttribution, Status

COOKIE = "siyu_ref"
SALT = "siyu-distribution-ref"
TOUCH_SOURCE = "ref"
_DAY = timedelta(days=1)
_FEW = 20  # referrals read at once when binding


# ------------------------------------------------------------------------- clicks


def record_click(session: Session, link: Link, visitor_id: str, day: date) -> bool:
    """Count a visit; True when it is the visitor's first through this link today."""
    values = dict(link_id=link.id, distributor_id=link.distributor_id, visitor_id=visitor_id[:64],
                  day=day, created_at=utcnow())
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Click).values(**values).on_conflict_do_nothing(
        index_elements=["link_id", "visitor_id", "day"])
    with write_transaction(session):
        return session.execute(statement).rowcount == 1


# ------------------------------------------------------------------------- cookie


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def sign_ref(secret: str, link: Link) -> str:
    return _serializer(secret).dumps({"d": link.distributor_id, "c": link.code})


def read_ref(secret: str, token: str | None, max_age_seconds: int) -> tuple[int, str, datetime] | None:
    """(distributor id, code, signed at) from a cookie, or None if tampered or expired."""
    if not token or len(token) > 300:
        return None
    try:
        data, signed_at = _serializer(secret).loads(token, max_age=max_age_seconds, return_timestamp=True)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), int) or not valid_code(data.get("c")):
        return None
    return data["d"], data["c"], signed_at


# ------------------------------------------------------------------------ binding


def _candidates(session: Session, member_id: int, settings: config.Settings, now: datetime,
                cookie: tuple[int, str, datetime] | None) -> list[tuple[datetime, int]]:
    """(when, distributor id) of the member's referrals inside the window: earliest and latest."""
    since = now - settings.cookie_window
    base = (select(Touch.created_at, Link.distributor_id)
            .join(Link, Link.code == Touch.value)
            .join(Distributor, Distributor.id == Link.distributor_id)
            .where(Touch.member_id == member_id, Touch.source == TOUCH_SOURCE, Touch.created_at >= since,
                   Distributor.status == Status.APPROVED.value))
    # Usually a few referrals: one query brings them all. Past _FEW, the latest comes apart.
    rows = [tuple(row) for row in session.execute(base.order_by(Touch.created_at, Touch.id).limit(_FEW))]
    if len(rows) == _FEW:
        rows += [tuple(row) for row in session.execute(base.order_by(Touch.created_at.desc(), Touch.id.desc())
                                                       .limit(1))]
    found = rows[:1] + rows[-1:]
    if cookie is not None and cookie[2] >= since:
        status = session.scalar(select(Distributor.status).where(Distributor.id == cookie[0]))
        if status == Status.APPROVED.value:
            found.append((cookie[2], cookie[0]))
    return sorted(set(found))


def bind(session: Session, member_id: int, settings: config.Settings, now: datetime | None = None,
         cookie: tuple[int, str, datetime] | None = None) -> Binding | None:
    """Bring the member's binding up to date inside the caller's transaction."""
    now = now or utcnow()
    own = session.scalar(select(Distributor.id).where(Distributor.member_id == member_id))
    touches = [(at, d) for at, d in _candidates(session, member_id, settings, now, cookie)
               if d != own or settings.self_purchase]
    binding = session.get(Binding, member_id)
    if not touches:
        return binding
    (first_at, first_id), (last_at, last_id) = touches[0], touches[-1]
    expires = (lambda start: start + settings.binding_days * _DAY) if settings.binding_days else (lambda _s: None)
    if binding is None:
        chosen_at, chosen = (first_at, first_id) if settings.binding == "first" else (last_at, last_id)
        binding = Binding(member_id=member_id, distributor_id=chosen, bound_at=now, expires_at=expires(now),
                          first_distributor_id=first_id, first_at=first_at,
                          last_distributor_id=last_id, last_at=last_at)
        session.add(binding)
        return binding
    if last_at > binding.last_at:
        binding.last_distributor_id, binding.last_at = last_id, last_at
    lapsed = binding.expires_at is not None and binding.expires_at <= now
    if lapsed or (settings.binding == "last" and binding.distributor_id != binding.last_distributor_id
                  and binding.last_at > binding.bound_at):
        # A lapsed binding goes to the latest referral; so does every new one in last-touch mode.
        binding.distributor_id, binding.bound_at = binding.last_distributor_id, now
        binding.expires_at = expires(now)
    return binding


def active_distributor(binding: Binding | None, now: datetime) -> int | None:
    if binding is None or (binding.expires_at is not None and binding.expires_at <= now):
        return None
    return binding.distributor_id


def attribute_order(session: Session, order: Order, settings: config.Settings,
                    cookie: tuple[int, str, datetime] | None = None) -> OrderAttribution | None:
    """Record the order's distributor and upline (inside the checkout transaction)."""
    now = utcnow()
    distributor_id = active_distributor(bind(session, order.member_id, settings, now, cookie), now)
    if distributor_id is None:
        return None
    seller = session.get(Distributor, distributor_id)
    if seller is None or seller.status != Status.APPROVED.value:
        return None
    upline = _upline(session, seller, settings.depth - 1)
    row = OrderAttribution(order_id=order.id, distributor_id=seller.id,
                           tier2_id=upline[0] if len(upline) > 0 else None,
                           tier3_id=upline[1] if len(upline) > 1 else None,
                           source="cookie" if cookie and cookie[0] == seller.id else "binding",
                           self_purchase=seller.member_id == order.member_id, created_at=now)
    session.add(row)
    return row


def _upline(session: Session, seller: Distributor, steps: int) -> list[int]:
    """Up to ``steps`` recruiters above the seller: one query per tier, stops at a cycle."""
    chain: list[int] = []
    current = seller.recruiter_id
    while current is not None and len(chain) < steps and current != seller.id and current not in chain:
        chain.append(current)
        current = session.scalar(select(Distributor.recruiter_id).where(Distributor.id == current)) \
            if len(chain) < steps else None
    return chain

