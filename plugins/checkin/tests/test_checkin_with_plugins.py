"""With the real points and coupons plugins enabled (when installed): rewards are delivered
through their hooks, and this plugin still imports neither."""
from importlib import metadata
from pathlib import Path

import pytest
from checkin_helpers import at, days, set_checkin
from sqlalchemy import select

from siyu_checkin import service
from siyu_checkin.models import CheckinReward
from siyu.plugin.testing import fresh

INSTALLED = {ep.name for ep in metadata.entry_points(group="siyu")}
pytestmark = pytest.mark.skipif(not {"crm_tags", "coupons"} <= INSTALLED,
                                reason="crm_tags and coupons plugins not installed")
MAY1 = at("2026-05-01T10:00:00+08:00")


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["checkin", "crm_tags", "coupons"]}


def test_points_reach_the_crm_and_an_unknown_coupon_is_reported(kernel, db, member):
    set_checkin(db, bonus_coupons="3=NO-SUCH-COUPON")
    outcomes = [service.check_in(kernel, db, member, now=MAY1 + days(n)) for n in range(3)]
    assert [o.points for o in outcomes] == [5, 5, 15]
    rows = fresh(db).scalars(select(CheckinReward).order_by(CheckinReward.id)).all()
    assert [(r.kind, r.status) for r in rows] == [("points", "delivered")] * 4 + [("coupon", "not_delivered")]
    assert "coupons_issue gave nothing" in rows[-1].note


def test_the_plugin_imports_no_other_plugin():
    package = Path(__file__).resolve().parents[1] / "siyu_checkin"
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "siyu_crm_tags" not in text and "siyu_coupons" not in text, source
