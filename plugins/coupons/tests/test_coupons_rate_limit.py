"""The claim endpoint is rate-limited per address: a script cannot hammer a poster's code."""
import pytest
from coupon_helpers import make_template
from siyu.plugin.testing import csrf_token, login


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["coupons"], "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def test_claims_are_limited_to_ten_a_minute(client, db, member):
    make_template(db, code="LIMIT1", per_member_limit=100)
    login(client)
    token = csrf_token(client, "/coupon/LIMIT1")
    codes = [client.post("/coupon/LIMIT1/claim", data={"csrf_token": token}).status_code for _ in range(11)]
    assert codes[:10] == [302] * 10 and codes[10] == 429
