"""The plugin's own catalogs are complete and compiled; its Alembic branch matches its models."""
from pathlib import Path


from siyu.plugin.testing import PluginPackageChecks, staff_login


class TestCouponsPackage(PluginPackageChecks):
    plugin = "coupons"
    package_dir = Path(__file__).resolve().parents[1] / "siyu_coupons"
    min_strings = 100


def test_back_office_speaks_chinese(client, owner):
    staff_login(client)
    html = client.get("/admin/coupons", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "优惠券" in html and "还没有优惠券" in html and "No coupons yet" not in html
