"""The demo shop's distributor opens the distributor center with history: clicks, a referred
customer's orders, commission pending (not received yet) and payable (completed long enough)."""
from sqlalchemy import func, select

from siyu.plugin import Member
from siyu.plugin.testing import DEMO_PASSWORD, fresh, login
from siyu_distribution import ledger
from siyu_distribution.models import Click, Distributor, LedgerEntry, OrderAttribution


def test_the_demo_distributor_has_pending_and_payable_commission(runner, client, db):
    for _ in range(2):  # idempotent
        result = runner.invoke(args=["siyu", "seed", "--demo"])
        assert result.exit_code == 0, result.output
    fresh(db)
    seller = db.scalar(select(Distributor))
    assert db.get(Member, seller.member_id).email == "li.hua@example.com"
    assert db.scalar(select(func.count(OrderAttribution.order_id))) == 3
    assert db.scalar(select(func.count(Click.id))) == 30
    balances = ledger.balances(db, seller.id)
    assert balances.payable > 0 and balances.pending > 0
    assert db.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "accrual")) == 3
    login(client, "li.hua@example.com", DEMO_PASSWORD)
    html = client.get("/distribution/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Payable" in html and "payable 7 days after the order is completed" in html
