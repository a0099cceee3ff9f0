"""The test kit's helpers: factories, and clients that use the shop as a shopper or the staff do.

Exported through ``siyu.plugin.testing`` (documented in docs/plugin-api.md, "Test helpers"); the
fixtures built on them (``siyu_shopper``, ``siyu_staff``...) are in ``siyu.storefront.testing``.
Forms are posted as a browser does: with the CSRF token read from the page that shows them.
"""
from __future__ import annotations

import re
from itertools import count
from typing import Any, Mapping

from flask.testing import FlaskClient
from sqlalchemy import select

#: A valid mainland address (杭州市西湖区) for tests whose shoppers buy goods that ship.
TEST_ADDRESS = {"recipient": "王小明", "phone": "13812345678", "province_code": "330000",
                "city_code": "330100", "district_code": "330106", "street": "文三路 90 号 501"}
#: The password ``make_member`` and ``make_staff`` give unless told otherwise.
MEMBER_PASSWORD = "correct-horse"
STAFF_PASSWORD = "green-tea-garden-2026"

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CHECKOUT_TOKEN = re.compile(r'name="checkout_token" type="hidden" value="([^"]+)"')
_numbers = count(1)


def give_address(session, member, **changes):
    """Add a default delivery address to ``member``'s address book and return it."""
    from siyu.core.addresses import add_address

    return add_address(session, member, {**TEST_ADDRESS, **changes}, make_default=True)


def allow_unpaid_orders(session, orders=100, units=10_000):
    """Raise the shop's caps on unpaid orders (``siyu.core.reservations``; 3 orders and 50
    items by default): for tests that leave many orders of one member unpaid on purpose."""
    from siyu.core import settings
    from siyu.core.db import write_transaction

    with write_transaction(session):
        settings.put(session, "core", "unpaid_orders_cap", orders)
        settings.put(session, "core", "unpaid_units_cap", units)


def fresh(session):
    """End the session's snapshot and forget cached rows and settings, to read what a request
    (another session) wrote since."""
    from siyu.core import settings

    session.rollback()
    session.expire_all()
    settings.forget(session)
    return session


# ------------------------------------------------------------------------ factories


def make_product(session, sku: str | None = None, price: int = 1000, stock: int = 100, *, active: bool = True,
                 position: int = 0, currency: str = "CNY", **columns: Any):
    """An active product (``SKU-<n>`` unless ``sku`` is given), committed."""
    from siyu.core.db import write_transaction
    from siyu.core.models import Product

    sku = sku or f"SKU-{next(_numbers)}"
    values = {"title_zh": f"商品 {sku}", "title_en": f"Product {sku}", "description_zh": "",
              "description_en": "", **columns}
    with write_transaction(session):
        product = Product(sku=sku, price=price, currency=currency, stock=stock, active=active,
                          position=position, **values)
        session.add(product)
    return product


def make_member(kernel, session, email: str = "buyer@example.com", password: str = MEMBER_PASSWORD,
                name: str | None = None, *, address: bool = False):
    """A member signed up through the core's service (``on_member_created`` runs); with
    ``address``, a default delivery address too (goods that ship need one at checkout)."""
    from siyu.core.members import sign_up

    member = sign_up(kernel, session, email=email, password=password, name=name or email.split("@")[0])
    if address:
        give_address(session, member)
    return member


def make_staff(session, role: str = "owner", email: str | None = None, password: str = STAFF_PASSWORD,
               name: str | None = None):
    """An owner or an agent of the shop (``<role>@shop.cn`` unless ``email`` is given)."""
    from siyu.core.staff import create_staff

    email = email or f"{role}@shop.cn"
    return create_staff(session, email=email, password=password, role=role, name=name or role.capitalize())


# ---------------------------------------------------------------------------- the web


def csrf_token(client, path: str = "/account/login") -> str:
    """The CSRF token of the form on ``path``, as the browser would post it."""
    response = client.get(path)
    match = CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1) or match.group(2)


def submit(client, path: str, data: Mapping[str, Any] | None = None, *, page: str | None = None, **kwargs):
    """POST the form of ``page`` (default: ``path``) to ``path``, with that page's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page or path)}, **kwargs)


def login(client, email: str = "buyer@example.com", password: str = MEMBER_PASSWORD):
    """Sign ``client`` in as a member through /account/login."""
    response = submit(client, "/account/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def staff_login(client, email: str = "owner@shop.cn", password: str = STAFF_PASSWORD):
    """Sign ``client`` in to the back office (/admin/login); the staff cookie is apart from a shopper's."""
    response = submit(client, "/admin/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def add_to_cart(client, product, quantity: int = 1):
    """Put ``quantity`` of ``product`` (a product or its id) in the client's cart, from its page."""
    product_id = getattr(product, "id", product)
    return submit(client, "/cart/add", {"product_id": product_id, "quantity": quantity}, page=f"/p/{product_id}")


class CheckoutRefused(AssertionError):
    """The checkout did not place an order; ``response`` is the shop's answer."""

    def __init__(self, response):
        self.response = response
        super().__init__(f"checkout answered {response.status_code}: {response.get_data(as_text=True)[:800]}")


def checkout(client, session, items=None, *, payment_method: str = "manual",
             address: Mapping[str, str] | None = TEST_ADDRESS, headers: Mapping[str, str] | None = None,
             **fields: str):
    """Place an order through the web as the signed-in shopper of ``client`` and return it.

    ``items``: a product, or ``{product or id: quantity}`` added to the cart first (None: the cart
    as it is). A shopper without an address book gets ``address`` through the address form.
    ``fields`` are posted with the checkout form (a plugin's inputs, ``delivery_method``...).
    Raises ``CheckoutRefused`` (with ``.response``) when no order is placed.
    """
    from siyu.core.models import Order

    if items is not None:
        for product, quantity in (items.items() if isinstance(items, Mapping) else [(items, 1)]):
            add_to_cart(client, product, quantity)
    html = client.get("/checkout").get_data(as_text=True)
    if address is not None and 'name="address_id"' not in html and "/account/addresses/new" in html:
        submit(client, "/account/addresses/new", {**address, "is_default": "y"})
        html = client.get("/checkout").get_data(as_text=True)
    token, csrf = CHECKOUT_TOKEN.search(html), CSRF.search(html)
    assert token and csrf, f"no checkout form: {html[-1500:]}"
    response = client.post("/checkout", headers=dict(headers or {}), data={
        "payment_method": payment_method, "checkout_token": token.group(1),
        "csrf_token": csrf.group(1) or csrf.group(2), **fields})
    location = response.headers.get("Location", "")
    match = re.search(r"/orders/([^/?#]+)", location)
    if response.status_code != 302 or not match:
        raise CheckoutRefused(response)
    return fresh(session).scalar(select(Order).where(Order.number == match.group(1)))


class ShopClient(FlaskClient):
    """The test client of the kit's apps: Flask's, plus ``submit`` (a form with its page's CSRF
    token) and ``csrf_token``; ``member`` or ``staff`` when it is signed in as someone."""

    member: Any = None
    staff: Any = None
    password: str = ""

    def csrf_token(self, path: str = "/account/login") -> str:
        return csrf_token(self, path)

    def submit(self, path: str, data: Mapping[str, Any] | None = None, *, page: str | None = None, **kwargs):
        return submit(self, path, data, page=page, **kwargs)


class Shopper(ShopClient):
    """A client signed in as ``member``: ``add_to_cart``, ``checkout`` and ``pay_by_card`` as a shopper."""

    session: Any = None

    def add_to_cart(self, product, quantity: int = 1):
        return add_to_cart(self, product, quantity)

    def checkout(self, items=None, **options):
        return checkout(self, self.session, items, **options)

    def pay_by_card(self, order, card: str = "pm_card_visa", **options):
        from siyu.storefront.testing_stripe import pay_by_card

        return pay_by_card(self, self.session, order, card, **options)


def shopper_client(app, session, member=None, password: str = MEMBER_PASSWORD) -> Shopper:
    """A ``Shopper`` signed in as ``member`` (when None, a new member ``shopper@example.com``
    with a delivery address)."""
    client = Shopper(app, app.response_class, use_cookies=True)
    client.member = member or make_member(app.extensions["siyu"], session, "shopper@example.com", password,
                                          "Shopper", address=True)
    client.password, client.session = password, session
    login(client, client.member.email, password)
    return client


def staff_client(app, session, staff=None, password: str = STAFF_PASSWORD) -> ShopClient:
    """A client signed in to the back office as ``staff`` (a new owner when None)."""
    client = ShopClient(app, app.response_class, use_cookies=True)
    client.staff = staff or make_staff(session, "owner", password=password)
    client.password = password
    staff_login(client, client.staff.email, password)
    return client
