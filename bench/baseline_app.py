"""The bare page the storefront's home is measured against.

Flask + SQLAlchemy 2 (``select()`` of 30 products from its own SQLite file) + one Jinja
file template with the same markup as the storefront's home. No plugins, no i18n, no
login, no CSRF, no security headers: the floor a hand-written Flask shop starts from.

``BENCH_BASELINE_DB`` names the SQLite file; ``seed()`` fills it (``bench/run.py`` copies
the storefront's 30 products into it so both pages list the same things). ``POST /orders``
is the checkout's floor: read the products, insert an order with its lines, commit.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, abort, g, render_template, request
from sqlalchemy import ForeignKey, Integer, String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

HERE = Path(__file__).resolve().parent


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    price: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    image: Mapped[str] = mapped_column(String(255))
    alt: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)


def _engine(path: str):
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _wal(dbapi_conn, _record):  # the storefront's SQLite settings: same durability on both sides
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA busy_timeout=5000")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    return engine


def seed(path: str, rows: list[dict]) -> None:
    """Create the table and insert ``rows`` (dicts of Product's columns)."""
    engine = _engine(path)
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add_all(Product(**row) for row in rows)
    engine.dispose()


def money(amount: int, currency: str) -> str:
    symbol = {"CNY": "¥", "USD": "$"}.get(currency, currency + " ")
    return f"{symbol}{amount / 100:,.2f}"


def create_app(db_path: str | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(HERE / "templates"),
                static_folder=None)
    engine = _engine(db_path or os.environ["BENCH_BASELINE_DB"])
    Sessions = sessionmaker(engine)
    app.jinja_env.filters["money"] = money

    def db() -> Session:
        if "db" not in g:
            g.db = Sessions()
        return g.db

    @app.teardown_appcontext
    def close_db(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()

    @app.get("/")
    def home():
        products = db().scalars(
            select(Product).order_by(Product.position, Product.id).limit(30)
        ).all()
        return render_template("home.html", products=products, shop_name="Baseline Tea")

    @app.get("/p/<int:product_id>")
    def product(product_id: int):
        item = db().get(Product, product_id)
        if item is None:
            abort(404)
        return render_template("product.html", product=item, shop_name="Baseline Tea")

    @app.post("/orders")
    def place():
        wanted = {int(k): int(v) for k, v in request.form.items() if k.isdigit()}
        session = db()
        products = session.scalars(select(Product).where(Product.id.in_(wanted))).all()
        order = Order(number=request.form["number"], currency="CNY",
                      total=sum(p.price * wanted[p.id] for p in products))
        session.add(order)
        session.flush()
        session.add_all(OrderLine(order_id=order.id, product_id=p.id, unit_price=p.price,
                                  quantity=wanted[p.id]) for p in products)
        session.commit()
        return {"order": order.number, "total": order.total}, 201

    return app
