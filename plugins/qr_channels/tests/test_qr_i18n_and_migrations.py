"""The plugin's own catalogs are complete and compiled; its Alembic branch matches its models."""
from pathlib import Path


from siyu.plugin.testing import PluginPackageChecks, staff_login


class TestQrChannelsPackage(PluginPackageChecks):
    plugin = "qr_channels"
    package_dir = Path(__file__).resolve().parents[1] / "siyu_qr_channels"
    min_strings = 80


def test_back_office_speaks_chinese(client, owner):
    staff_login(client)
    html = client.get("/admin/channels", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "渠道" in html and "还没有渠道" in html and "Channels" not in html
