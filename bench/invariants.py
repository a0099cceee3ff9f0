"""Invariants of a shop's books, checked with plain SQL on any Siyu database.

Run after a load test, a fault-injection test or on a production copy:

    python bench/invariants.py postgresql+psycopg://shop@127.0.0.1/shop

Each check is one query returning the rows that break a rule, so a violation names the
order, product or member at fault. Plugin checks run only where the plugin's tables exist;
the checker reads tables and never imports a plugin.
"""
from __future__ import annotations

import sys
from typing import Mapping

from sqlalchemy import create_engine, inspect, text

CORE = {
    "stock is never negative": "SELECT id, stock FROM products WHERE stock < 0",
    "order subtotal = sum of its lines": """
        SELECT o.number, o.subtotal, SUM(l.subtotal) FROM orders o JOIN order_lines l ON l.order_id = o.id
        GROUP BY o.id, o.number, o.subtotal HAVING o.subtotal <> SUM(l.subtotal)""",
    "order total = subtotal + adjustments, never below zero": """
        SELECT o.number, o.subtotal, o.adjustment_total, o.total, COALESCE(SUM(a.amount), 0)
        FROM orders o LEFT JOIN order_adjustments a ON a.order_id = o.id
        GROUP BY o.id, o.number, o.subtotal, o.adjustment_total, o.total
        HAVING o.total < 0 OR o.total <> o.subtotal + o.adjustment_total
            OR o.adjustment_total <> COALESCE(SUM(a.amount), 0)""",
    # A cancelled order was never sold: the refund of money taken for it anyway is on its
    # payment, not on the order (which stays cancelled with nothing refunded).
    "refunded = sum of succeeded refunds, at most the total": """
        SELECT o.number, o.refunded_amount, o.total FROM orders o
        WHERE o.refunded_amount > o.total OR (o.status <> 'cancelled' AND o.refunded_amount <> (
            SELECT COALESCE(SUM(r.amount), 0) FROM refunds r WHERE r.order_id = o.id AND r.status = 'succeeded'))""",
    "pending and succeeded refunds never exceed the total": """
        SELECT o.number FROM orders o JOIN refunds r ON r.order_id = o.id AND r.status IN ('pending', 'succeeded')
        GROUP BY o.id, o.number, o.total HAVING SUM(r.amount) > o.total""",
    "status agrees with the refunded amount": """
        SELECT number, status, refunded_amount, total FROM orders WHERE
            (status IN ('placed', 'paid', 'cancelled') AND refunded_amount <> 0)
            OR (status = 'partially_refunded' AND NOT (refunded_amount > 0 AND refunded_amount < total))
            OR (status IN ('shipped', 'completed') AND refunded_amount >= total AND total > 0)
            OR (status = 'refunded' AND refunded_amount <> total)""",
    "every paid order has one succeeded payment": """
        SELECT o.number FROM orders o WHERE o.status IN ('paid', 'partially_refunded', 'shipped', 'completed',
                                                         'refunded')
            AND (SELECT COUNT(*) FROM payments p WHERE p.order_id = o.id AND p.status = 'succeeded') <> 1""",
    "money taken for an unpaid order raised a payment alarm": """
        SELECT o.number FROM orders o JOIN payments p ON p.order_id = o.id
        WHERE o.status IN ('placed', 'cancelled') AND p.status = 'succeeded' AND NOT EXISTS (
            SELECT 1 FROM payment_alarms a WHERE a.payment_id = p.id AND a.kind = 'paid_after_cancel')""",
    "money taken for a cancelled order is refunded, or its alarm stays open": """
        SELECT o.number FROM orders o JOIN payments p ON p.order_id = o.id
        JOIN payment_alarms a ON a.payment_id = p.id AND a.kind = 'paid_after_cancel'
        WHERE o.status = 'cancelled' AND a.resolved_at IS NOT NULL AND p.amount > (
            SELECT COALESCE(SUM(r.amount), 0) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded')""",
    "refunds of a payment never exceed it": """
        SELECT p.reference FROM payments p JOIN refunds r ON r.payment_id = p.id
        AND r.status IN ('pending', 'succeeded') GROUP BY p.id, p.reference, p.amount HAVING SUM(r.amount) > p.amount""",
}

PLUGINS = {
    "coupons_templates": {
        "coupons issued = the template's counter, within its quantity": """
            SELECT t.code, t.issued, t.quantity, COUNT(c.id) FROM coupons_templates t
            LEFT JOIN coupons_coupons c ON c.template_id = t.id
            GROUP BY t.id, t.code, t.issued, t.quantity
            HAVING t.issued <> COUNT(c.id) OR (t.quantity IS NOT NULL AND t.issued > t.quantity)""",
        "a reserved coupon belongs to a placed order": """
            SELECT c.id, o.status FROM coupons_coupons c LEFT JOIN orders o ON o.id = c.order_id
            WHERE c.status = 'reserved' AND (o.id IS NULL OR o.status <> 'placed')""",
        "a used coupon belongs to a paid order": """
            SELECT c.id, o.status FROM coupons_coupons c LEFT JOIN orders o ON o.id = c.order_id
            WHERE c.status = 'used' AND (o.id IS NULL OR o.status NOT IN
                ('paid', 'partially_refunded', 'shipped', 'completed', 'refunded'))""",
    },
    "distribution_ledger": {
        "held commission = payouts awaiting payment": """
            SELECT d.id FROM distribution_distributors d WHERE
                (SELECT COALESCE(SUM(amount), 0) FROM distribution_ledger l
                 WHERE l.distributor_id = d.id AND l.bucket = 'held')
                <> (SELECT COALESCE(SUM(amount), 0) FROM distribution_payouts p
                    WHERE p.distributor_id = d.id AND p.status IN ('requested', 'approved'))""",
        "paid commission = payouts paid": """
            SELECT d.id FROM distribution_distributors d WHERE
                (SELECT COALESCE(SUM(amount), 0) FROM distribution_ledger l
                 WHERE l.distributor_id = d.id AND l.bucket = 'paid')
                <> (SELECT COALESCE(SUM(amount), 0) FROM distribution_payouts p
                    WHERE p.distributor_id = d.id AND p.status = 'paid')""",
        "commission on an order never exceeds its total": """
            SELECT o.number FROM orders o JOIN distribution_ledger l ON l.order_id = o.id AND l.kind = 'accrual'
            GROUP BY o.id, o.number, o.total HAVING SUM(l.amount) > o.total""",
    },
    "crm_point_entries": {
        "points balance = sum of the ledger, = the last entry's balance": """
            SELECT s.member_id, s.points FROM crm_member_stats s WHERE
                s.points <> (SELECT COALESCE(SUM(e.delta), 0) FROM crm_point_entries e WHERE e.member_id = s.member_id)
                OR s.points <> COALESCE((SELECT e.balance_after FROM crm_point_entries e
                    WHERE e.member_id = s.member_id ORDER BY e.id DESC LIMIT 1), 0)""",
        "spendable lots = the positive balance": """
            SELECT s.member_id FROM crm_member_stats s WHERE
                (SELECT COALESCE(SUM(l.remaining), 0) FROM crm_point_lots l WHERE l.member_id = s.member_id)
                <> CASE WHEN s.points > 0 THEN s.points ELSE 0 END""",
    },
    "checkin_checkins": {
        "check-in totals = check-in rows": """
            SELECT m.member_id, m.total FROM checkin_members m
            WHERE m.total <> (SELECT COUNT(*) FROM checkin_checkins c WHERE c.member_id = m.member_id)""",
    },
}


def check(engine, initial_stock: Mapping[int, int] | None = None) -> list[str]:
    """Every broken rule as ``"<rule>: <offending rows>"``; an empty list means all hold.

    ``initial_stock`` (product id → stock before the run) adds stock conservation: what is
    left plus what unpaid-or-paid (not cancelled) orders hold equals what there was.
    """
    tables = set(inspect(engine).get_table_names())
    rules = dict(CORE)
    for table, plugin_rules in PLUGINS.items():
        if table in tables:
            rules.update(plugin_rules)
    problems = []
    with engine.connect() as conn:
        for rule, sql in rules.items():
            rows = conn.execute(text(sql)).fetchmany(5)
            if rows:
                problems.append(f"{rule}: {[tuple(r) for r in rows]}")
        if initial_stock:
            held = dict(conn.execute(text(
                "SELECT l.product_id, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "WHERE o.status <> 'cancelled' GROUP BY l.product_id")).all())
            stock = dict(conn.execute(text("SELECT id, stock FROM products")).all())
            for product_id, before in initial_stock.items():
                if stock.get(product_id, 0) + int(held.get(product_id, 0)) != before:
                    problems.append(f"stock conserved: product {product_id} had {before}, "
                                    f"has {stock.get(product_id)} with {held.get(product_id, 0)} sold or held")
    return problems


def counts(engine) -> dict[str, int]:
    """Row counts of the tables a run writes to, for the report."""
    tables = set(inspect(engine).get_table_names())
    wanted = ["orders", "payments", "refunds", "messages", "members", "coupons_coupons",
              "checkin_checkins", "distribution_ledger", "crm_point_entries"]
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in wanted if t in tables}


if __name__ == "__main__":  # pragma: no cover - command line use
    found = check(create_engine(sys.argv[1]))
    print("\n".join(found) or "all invariants hold")
    sys.exit(1 if found else 0)
