"""The plugin's own catalogs are complete and compiled; its Alembic branch matches its models."""
from pathlib import Path

from siyu.plugin.testing import PluginPackageChecks, staff_login


class TestCheckinPackage(PluginPackageChecks):
    plugin = "checkin"
    package_dir = Path(__file__).resolve().parents[1] / "siyu_checkin"
    min_strings = 100


def test_back_office_speaks_chinese(client, owner):
    staff_login(client)
    html = client.get("/admin/checkin", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "签到保持的可联系会员" in html and "还没有签到" in html and "Latest check-ins" not in html
