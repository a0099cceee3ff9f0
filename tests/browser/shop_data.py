"""A small shop written straight to the database before a journey starts (fast, no clicks)."""
from __future__ import annotations

from siyu.core.db import write_transaction
from siyu.core.hooks import NOT_AVAILABLE, call_service
from siyu.core.members import sign_up
from siyu.core.models import Product
from siyu.core.staff import create_staff

PASSWORD = "jasmine-pearls-2026"
OWNER = "owner@teahouse.cn"
AGENT = "agent@teahouse.cn"

TEAS = [("LJ-01", "西湖龙井", "West Lake Longjing", 12800),
        ("BLC-02", "洞庭碧螺春", "Dongting Biluochun", 9800),
        ("TGY-03", "安溪铁观音", "Anxi Tieguanyin", 8800)]


def staff(session, role: str):
    return create_staff(session, email=OWNER if role == "owner" else AGENT, password=PASSWORD, role=role,
                        name="店主 Owner" if role == "owner" else "客服小王 Agent Wang")


def products(session, rows=TEAS, stock: int = 50) -> list[Product]:
    made = []
    with write_transaction(session):
        for position, (sku, zh, en, price) in enumerate(rows):
            made.append(Product(sku=sku, title_zh=zh, title_en=en, description_zh=f"{zh}，今年春茶。",
                                description_en=f"{en}, this spring's harvest.", price=price, currency="CNY",
                                stock=stock, active=True, position=position))
        session.add_all(made)
    return made


def member(kernel, session, email: str, name: str, locale: str):
    return sign_up(kernel, session, email=email, password=PASSWORD, name=name, locale=locale)


def curate(kernel, session, items: list[Product], key: str = "main") -> bool:
    """Publish into a curated catalog through the plugin's own hook (as a plugin would);
    False when the shop has no curation plugin (its catalog lists every product)."""
    for product in items:
        with write_transaction(session):
            if call_service(kernel, "curation_publish", session=session, key=key,
                            product_id=product.id) is NOT_AVAILABLE:
                return False
    return True
