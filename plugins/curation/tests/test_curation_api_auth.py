"""The curation API authenticates as every API endpoint does: through the storefront's one
token check, so the scheme's case does not matter (RFC 7235) on it or on the core's API."""
import pytest
from sqlalchemy import update

from siyu.plugin import StaffUser, write_transaction
from siyu.plugin.testing import create_token, revoke_token


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_any_case_of_bearer_opens_the_curation_api_and_the_core_api_alike(client, db, agent, scheme):
    _token, secret = create_token(db, agent, "agent token", "agent")
    headers = {"Authorization": f"{scheme} {secret}"}
    curation = client.get("/api/v1/curation/catalogs/main", headers=headers)
    core = client.get("/api/v1/products", headers=headers)
    assert (curation.status_code, core.status_code) == (200, 200), (curation.get_json(), core.get_json())
    assert curation.get_json()["key"] == "main"


def test_the_curation_api_refuses_what_the_core_api_refuses(client, db, owner, agent):
    token, secret = create_token(db, agent, "agent token", "agent")
    revoke_token(db, owner, token.id)
    for headers in ({}, {"Authorization": f"Bearer {secret}"}, {"Authorization": "Bearer siyu_unknown"},
                    {"Authorization": f"Basic {secret}"}, {"Authorization": "Bearer " + "x" * 400}):
        curation = client.get("/api/v1/curation/catalogs/main", headers=headers)
        core = client.get("/api/v1/products", headers=headers)
        assert curation.status_code == core.status_code == 401, headers
        assert curation.mimetype == core.mimetype == "application/problem+json"
        assert curation.headers["WWW-Authenticate"] == core.headers["WWW-Authenticate"]
        assert curation.get_json()["title"] == core.get_json()["title"]


def test_a_deactivated_staff_members_token_stops_on_the_curation_api(client, db, agent):
    _token, secret = create_token(db, agent, "agent token", "agent")
    with write_transaction(db):  # deactivated staff: every token stops at once
        db.execute(update(StaffUser).where(StaffUser.id == agent.id).values(active=False))
    response = client.get("/api/v1/curation/catalogs/main", headers={"Authorization": f"bearer {secret}"})
    assert response.status_code == 401
