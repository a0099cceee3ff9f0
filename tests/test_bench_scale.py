"""The benchmark generator at a tiny scale, on PostgreSQL: the data is consistent and the
queries measured at scale keep their shape (commission accrual costs the same statements
whatever the upline's depth). The benchmarks themselves are not run here."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

for plugin in ("siyu_crm_tags", "siyu_distribution", "siyu_qr_channels", "siyu_checkin"):
    pytest.importorskip(plugin)

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def generated(request):
    cluster = request.getfixturevalue("postgresql_cluster")
    if cluster is None:
        pytest.skip("PostgreSQL server binaries not installed")
    import generate

    url = cluster.url(cluster.create_database())
    counts = generate.generate(url, 0.001, log=lambda *_: None)
    return url, counts


def test_generator_fills_every_table_consistently(generated):
    import psycopg

    url, counts = generated
    assert counts["members"] == 1000 and counts["orders"] == 2000 and counts["qr_channels_scans"] == 10000
    assert counts["crm_member_stats"] == counts["members"]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        def one(sql):
            return conn.execute(sql).fetchone()[0]

        # Loaded with foreign-key triggers off: prove nothing points nowhere.
        assert one("SELECT count(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id "
                   "WHERE o.id IS NULL") == 0
        assert one("SELECT count(*) FROM distribution_distributors d LEFT JOIN distribution_distributors u "
                   "ON u.id = d.recruiter_id WHERE d.recruiter_id IS NOT NULL AND u.id IS NULL") == 0
        # Trees stop at the tier ceiling: nobody has a great-grand-recruiter.
        assert one("SELECT count(*) FROM distribution_distributors a JOIN distribution_distributors b "
                   "ON b.id = a.recruiter_id JOIN distribution_distributors c ON c.id = b.recruiter_id "
                   "WHERE c.recruiter_id IS NOT NULL") == 0
        # Totals add up, refunds stay within them, and the ledger balances per order.
        assert one("SELECT count(*) FROM orders o WHERE total <> (SELECT sum(subtotal) FROM order_lines "
                   "WHERE order_id = o.id)") == 0
        assert one("SELECT count(*) FROM orders WHERE refunded_amount > total") == 0
        assert one("SELECT count(*) FROM (SELECT order_id FROM distribution_ledger GROUP BY order_id "
                   "HAVING sum(amount) < 0) x") == 0
        # Sequences continue after the loaded ids.
        conn.execute("INSERT INTO crm_tag_groups (name, position) VALUES ('new', 0)")
        conn.rollback()


def test_scale_queries_keep_their_shape(generated):
    import scale

    url, _counts = generated
    results = scale.measure(url, runs=2)
    assert results["segment_count"] >= 0
    statements = {a["statements"] for a in results["accrual"].values()}
    assert len(statements) == 1, results["accrual"]  # O(tiers): the same whatever the depth
    entries = {label: a["entries"] for label, a in results["accrual"].items()}
    # Never more tiers than the setting (fewer when someone in the upline is not approved).
    assert entries["upline 3, depth setting 3"] <= 3 and entries["upline 3, depth setting 2"] <= 2
    assert entries["upline 3, depth setting 3"] >= entries["upline 3, depth setting 2"] >= 1
    assert all(len(samples) == 2 for samples in results["center"].values())
    assert "\n" in "\n".join(scale.report_lines(results))
