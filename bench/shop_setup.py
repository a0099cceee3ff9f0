"""The shops the page benchmarks serve: the storefront's (SQLite, 30 products, a signed-in
member with tags and an attribution) and the bare baseline's copy of the same products."""
from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRODUCTS = 30
SHOPPER = ("shopper@bench.example", "bench-shopper-password")
ADDRESS = {"recipient": "王小明", "phone": "13812345678", "province_code": "330000", "city_code": "330100",
           "district_code": "330106", "street": "文三路 90 号"}
REFERRAL_CODE = "benchref22"  # the plugin's alphabet, 10 characters
CHANNEL_SCENE = "77"
TAGS = ("备孕", "宝妈", "茶友", "老客", "直播间")

# Bilingual products added after the demo's dozen, so both pages list 30.
EXTRA = [
    ("龙井茶 礼盒", "Longjing tea gift box"), ("普洱熟茶饼 357g", "Ripe pu-erh cake 357 g"),
    ("铁观音 清香型", "Tieguanyin, light roast"), ("大红袍 岩茶", "Da Hong Pao rock tea"),
    ("茉莉花茶 100g", "Jasmine tea 100 g"), ("青瓷盖碗", "Celadon gaiwan"),
    ("竹制茶盘", "Bamboo tea tray"), ("公道杯 玻璃", "Glass fairness pitcher"),
    ("枣花蜜 500g", "Jujube honey 500 g"), ("绿豆糕 礼盒", "Mung bean cake gift box"),
    ("小米 2.5kg", "Foxtail millet 2.5 kg"), ("菜籽油 1L", "Rapeseed oil 1 l"),
    ("棉麻茶巾", "Linen tea towel"), ("锡制茶叶罐", "Pewter tea caddy"),
    ("桂花乌龙 80g", "Osmanthus oolong 80 g"), ("陈皮 10年", "Aged tangerine peel, 10 years"),
    ("手绘茶杯 一对", "Hand-painted cups, a pair"), ("苦荞茶 300g", "Tartary buckwheat tea 300 g"),
]



def shop_env(instance: Path, plugins: str = "*", database: str = "siyu.db") -> dict[str, str]:
    """``plugins``: ``*`` for every installed plugin, ``""`` for none (the core alone)."""
    env = dict(os.environ)
    env.update({
        "SIYU_INSTANCE_PATH": str(instance),
        "SIYU_DATABASE_URL": f"sqlite:///{instance / database}",
        "SIYU_PLUGINS": plugins,
        "SIYU_SECURE_COOKIES": "0",
    })
    return env


def prepare_shop(instance: Path) -> list[dict]:
    """Migrate and seed through the CLI, top up to 30 products; return them for the baseline."""
    env = shop_env(instance)
    flask = [sys.executable, "-m", "flask", "--app", "siyu.storefront", "siyu"]
    for args in (["db", "upgrade"], ["seed", "--demo"]):
        subprocess.run(flask + args, env=env, check=True, stdout=subprocess.DEVNULL)

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from sqlalchemy import func, select

        from siyu.core import settings
        from siyu.core.db import write_transaction
        from siyu.core.models import Product, ProductImage
        from siyu.storefront import create_app

        app = create_app()
        siyu = app.extensions["siyu"]
        with siyu.db.Session() as session:
            with write_transaction(session):
                active = session.scalar(select(func.count()).where(Product.active.is_(True)))
                images = list(session.scalars(select(ProductImage.path).order_by(ProductImage.id)))
                start = session.scalar(select(func.max(Product.position))) or 0
                for n in range(PRODUCTS - active):
                    zh, en = EXTRA[n % len(EXTRA)]
                    product = Product(sku=f"BENCH-{n:03d}", title_zh=zh, title_en=en,
                                      description_zh="", description_en="",
                                      price=2800 + 1700 * n, currency="CNY", stock=10 + n,
                                      active=True, position=start + 1 + n)
                    if images:
                        product.images.append(ProductImage(path=images[n % len(images)], alt=en))
                    session.add(product)
                settings.bump_catalog_revision(session)
            list_everything(siyu, session)
            add_people(siyu, session)
            rows = []
            for p in session.scalars(select(Product).where(Product.active.is_(True))
                                     .order_by(Product.position, Product.id)):
                image = p.images[0] if p.images else None
                rows.append({"id": p.id, "title": p.title_zh, "price": p.price,
                             "currency": p.currency, "position": p.position,
                             "image": image.path if image else "", "alt": image.alt if image else ""})
        siyu.db.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if len(rows) != PRODUCTS:
        raise SystemExit(f"expected {PRODUCTS} active products, found {len(rows)}")
    return rows


def list_everything(siyu, session) -> None:
    """Bundled plugins that decide what the home page lists get all 30 products listed.

    The curation plugin lists its main catalog (capped, 30 by default) instead of every
    active product: fill it, as a merchant does from the back office.
    """
    if siyu.pm.get_plugin("curation") is not None:
        from siyu_curation import service
        from siyu_curation.models import MAIN

        service.ensure_catalog(siyu, session, MAIN)
        service.fill(siyu, session, MAIN)


def prepare_baseline(path: Path, rows: list[dict]) -> None:
    sys.path.insert(0, str(HERE))
    try:
        import baseline_app
    finally:
        sys.path.remove(str(HERE))
    baseline_app.seed(str(path), rows)


def add_people(siyu, session) -> None:
    """The shopper the pages are measured for, tagged by agents, and the distributor and
    channel the shopper arrived through (plugins that are not installed are skipped)."""
    from siyu.core.db import write_transaction
    from siyu.core.addresses import add_address
    from siyu.core.members import sign_up

    shopper = sign_up(siyu, session, email=SHOPPER[0], password=SHOPPER[1], name="Bench shopper")
    add_address(session, shopper, ADDRESS)  # the checkout needs one for goods that ship
    seller = sign_up(siyu, session, email="seller@bench.example", password=SHOPPER[1], name="Bench seller")
    with write_transaction(session):
        if siyu.pm.get_plugin("crm_tags") is not None:
            from siyu_crm_tags.models import MemberTag, Tag, TagGroup

            group = TagGroup(name="人生阶段")
            session.add(group)
            session.flush()
            for name in TAGS:
                tag = Tag(group_id=group.id, name=name)
                session.add(tag)
                session.flush()
                session.add(MemberTag(member_id=shopper.id, tag_id=tag.id, source="manual"))
        if siyu.pm.get_plugin("distribution") is not None:
            from siyu_distribution.models import Distributor, Link

            distributor = Distributor(member_id=seller.id, status="approved", display_name="Bench seller")
            session.add(distributor)
            session.flush()
            session.add(Link(distributor_id=distributor.id, code=REFERRAL_CODE, target="/"))
        if siyu.pm.get_plugin("qr_channels") is not None:
            from siyu_qr_channels.models import Channel

            session.add(Channel(name="Bench counter", kind="store", target="home", scene=CHANNEL_SCENE,
                                scene_id=int(CHANNEL_SCENE)))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def shopper_cookies(root: str, user_agent: str) -> str:
    """Arrive through the referral link and the channel code, then sign in: the Cookie header
    every measured request of the signed-in shopper carries."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    opener.addheaders = [("User-Agent", user_agent), ("Accept-Language", "zh-CN")]

    def get(path: str) -> str:
        try:
            with opener.open(root + path, timeout=30) as response:
                return response.read().decode()
        except urllib.error.HTTPError as exc:  # a redirect, refused on purpose: keep its cookies
            if exc.code not in (301, 302, 303):
                raise
            return ""

    get(f"/r/{REFERRAL_CODE}")
    get(f"/q/{CHANNEL_SCENE}")
    html = get("/account/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    form = urllib.parse.urlencode({"email": SHOPPER[0], "password": SHOPPER[1], "csrf_token": token}).encode()
    try:
        opener.open(urllib.request.Request(root + "/account/login", data=form), timeout=30)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise RuntimeError(f"shopper sign-in failed: {exc.code}") from exc
    names = {c.name for c in jar}
    if not any("session" in name for name in names) or "siyu_ref" not in names:
        raise RuntimeError(f"shopper sign-in set no session cookie (cookies: {sorted(names)})")
    return "; ".join(f"{c.name}={c.value}" for c in jar)
