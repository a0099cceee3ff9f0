"""A bilingual demo shop: a dozen products with drawn images, a few members with delivery
addresses, and their orders in every state, so the back office, the dashboard and the
shoppers' order pages show history on first start."""
from __future__ import annotations

from sqlalchemy import select

from siyu.core import settings
from siyu.core.addresses import add_address
from siyu.core.db import write_transaction
from siyu.core.demo_orders import demo_order
from siyu.core.members import sign_up
from siyu.core.models import Member, MemberAddress, Product, ProductImage

# sku, zh title, en title, price in fen, stock, colour, zh description, en description
PRODUCTS = [
    ("TEA-001", "明前龙井 100g", "Pre-Qingming Longjing tea 100 g", 16800, 40, "#7a9a3a",
     "西湖产区，清明前采摘，豆香清雅。", "From the West Lake area, picked before Qingming; fresh and nutty."),
    ("TEA-002", "正山小种红茶 125g", "Lapsang souchong black tea 125 g", 9800, 60, "#8b3a2b",
     "桐木关松烟香，汤色红亮。", "Pine-smoked from Tongmu pass, a bright red liquor."),
    ("TEA-003", "白毫银针 50g", "Silver needle white tea 50 g", 22800, 25, "#c9c2a5",
     "福鼎白茶，毫香蜜韵。", "Fuding white tea, downy and honeyed."),
    ("CUP-001", "手作粗陶茶杯", "Handmade stoneware cup", 6800, 30, "#6b5b4b",
     "景德镇匠人手作，每只略有不同。", "Made by hand in Jingdezhen; no two are alike."),
    ("POT-001", "紫砂西施壶 200ml", "Yixing clay Xishi teapot 200 ml", 39800, 8, "#7b3f2a",
     "宜兴原矿紫泥，出水顺畅。", "Original Yixing purple clay, a clean pour."),
    ("SET-001", "旅行茶具套装", "Travel tea set", 15800, 20, "#345e6b",
     "一壶两杯，随身收纳。", "One pot, two cups, one pouch."),
    ("HON-001", "野生百花蜜 500g", "Wildflower honey 500 g", 8800, 50, "#e0a526",
     "秦岭山区蜂场直供。", "Straight from apiaries in the Qinling mountains."),
    ("SNK-001", "桂花糕 礼盒", "Osmanthus cake gift box", 5800, 35, "#e8b04a",
     "当季桂花，少糖配方。", "Seasonal osmanthus, less sugar."),
    ("RIC-001", "五常大米 5kg", "Wuchang rice 5 kg", 12800, 45, "#d8d2c0",
     "东北稻花香，一年一季。", "Fragrant rice from the north-east, one harvest a year."),
    ("OIL-001", "冷榨山茶油 500ml", "Cold-pressed camellia oil 500 ml", 13800, 18, "#b8a33a",
     "江西油茶籽，低温压榨。", "Camellia seeds from Jiangxi, pressed cold."),
    ("SCF-001", "真丝围巾 青瓷", "Silk scarf, celadon", 29800, 12, "#8fb8a8",
     "杭州桑蚕丝，手工卷边。", "Hangzhou mulberry silk, hand-rolled edges."),
    ("CAR-001", "茶席棉麻桌旗", "Linen tea table runner", 7800, 22, "#9a8f7a",
     "棉麻混纺，素雅百搭。", "Cotton and linen, plain and easy to match."),
]

MEMBERS = [
    ("li.hua@example.com", "李华"),
    ("wang.fang@example.com", "王芳"),
    ("amy@example.com", "Amy"),
]
DEMO_PASSWORD = "siyu-demo-2026"
#: email → (recipient, mobile, province, city, district, street)
ADDRESSES = {
    "li.hua@example.com": ("李华", "13800138001", "330000", "330100", "330106", "文三路 90 号 3 幢 501"),
    "wang.fang@example.com": ("王芳", "13900139002", "110000", "110100", "110105", "建国路 88 号 2 单元 1203"),
    "amy@example.com": ("Amy Chen", "13700137003", "310000", "310100", "310104", "衡山路 12 弄 6 号"),
}
LI, WANG, AMY = (email for email, _ in MEMBERS)
#: key, buyer, {sku: quantity}, placed (days ago), steps: (action, hours after placing, options)
ORDERS = [
    ("completed-auto", AMY, {"RIC-001": 1}, 40, [
        ("pay", 2), ("ship", 26, {"carrier": "yto", "tracking": "YT8812004455"}), ("auto", 26 + 24 * 10)]),
    ("completed", WANG, {"TEA-003": 1, "SNK-001": 1}, 24, [
        ("pay", 1), ("ship", 20, {"carrier": "sf", "tracking": "SF1402200011"}), ("receive", 70)]),
    ("returned-refunded", AMY, {"SNK-001": 2, "HON-001": 1}, 16, [
        ("pay", 1), ("ship", 22, {"carrier": "zto", "tracking": "ZT7310010086"}),
        ("request", 60, {"sku": "SNK-001", "kind": "return_refund", "reason": "damaged", "quantity": 1,
                         "note": "一盒压坏了 One box arrived crushed"}),
        ("approve", 64), ("return", 70, {"carrier": "zto", "tracking": "ZT7310020099"}), ("received", 110),
        ("refund", 111), ("receive", 112)]),
    ("return-requested", LI, {"POT-001": 1, "CUP-001": 1}, 7, [
        ("pay", 1), ("ship", 18, {"carrier": "sf", "tracking": "SF1402300022"}),
        ("request", 80, {"sku": "POT-001", "kind": "return_refund", "reason": "not_as_described",
                         "note": "壶盖不太严 The lid does not sit tight"})]),
    ("shipped", LI, {"SET-001": 1}, 4, [("pay", 1), ("ship", 20, {"carrier": "jd", "tracking": "JD0098765432"})]),
    ("cancelled", WANG, {"SCF-001": 1}, 3, [("cancel", 5)]),
    ("partly-shipped", AMY, {"TEA-002": 1, "HON-001": 1}, 2, [
        ("pay", 1), ("ship", 20, {"carrier": "sf", "tracking": "SF1402400033", "skus": {"HON-001": 1}})]),
    ("to-ship", WANG, {"TEA-001": 1, "CUP-001": 2}, 1, [("pay", 2)]),
    ("to-ship-today", LI, {"OIL-001": 1}, 0.2, [("pay", 1)]),
    ("awaiting-payment", AMY, {"CAR-001": 1}, 0.05, []),
]


def seed_demo(kernel, session) -> int:
    created = 0
    with write_transaction(session):
        settings.put(session, "core", "shop_name", "私域茶铺 Siyu Tea")
        existing = set(session.scalars(select(Product.sku)))
        for position, (sku, zh, en, price, stock, _colour, dzh, den) in enumerate(PRODUCTS):
            if sku in existing:
                continue
            product = Product(sku=sku, title_zh=zh, title_en=en, description_zh=dzh,
                              description_en=den, price=price, currency="CNY", stock=stock,
                              active=True, position=position)
            product.images.append(ProductImage(path=f"demo/{sku.lower()}.svg", alt=en))
            session.add(product)
            created += 1
        settings.bump_catalog_revision(session)
    known = set(session.scalars(select(Member.email)))
    for email, name in MEMBERS:
        if email not in known:
            sign_up(kernel, session, email=email, password=DEMO_PASSWORD, name=name)
    members = {m.email: m for m in session.scalars(select(Member).where(Member.email.in_(list(ADDRESSES))))}
    for email, member in members.items():
        if session.scalar(select(MemberAddress.id).where(MemberAddress.member_id == member.id).limit(1)) is None:
            recipient, phone, province, city, district, street = ADDRESSES[email]
            add_address(session, member, {"recipient": recipient, "phone": phone, "province_code": province,
                                          "city_code": city, "district_code": district, "street": street},
                        make_default=True)
    for key, email, items, days, steps in ORDERS:
        demo_order(kernel, session, members[email], items, key, days, steps)
    kernel.pm.hook.on_demo_seeded(kernel=kernel, session=session)
    return created


def draw_image(sku: str, colour: str, label: str) -> str:
    """The SVG shipped in ``static/demo`` for a demo product (kept small, no fonts needed)."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 320" width="320" height="320">'
        f'<rect width="320" height="320" fill="{colour}"/>'
        '<circle cx="160" cy="140" r="70" fill="#ffffff" fill-opacity="0.25"/>'
        f'<text x="160" y="270" font-size="28" text-anchor="middle" fill="#fff" '
        f'font-family="sans-serif">{label}</text></svg>'
    )
