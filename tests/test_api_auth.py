"""One API authentication path: the core's API and a plugin's own (plain Flask) API blueprint
both check tokens through ``siyu.storefront.api.auth``; the scheme is case-insensitive."""
import pytest
from backoffice_helpers import make_staff
from flask import Blueprint, jsonify

from siyu.core import hookimpl
from siyu.core.api_tokens import create_token
from siyu.storefront.api import bearer_token, current_api_staff, token_required

plain = Blueprint("plain_api", __name__, url_prefix="/api/v1/plain")
plain.before_request(token_required("agent"))
owner_only = Blueprint("plain_owner_api", __name__, url_prefix="/api/v1/plain-owner")
owner_only.before_request(token_required("owner"))


@plain.get("/whoami")
def whoami():
    return jsonify(staff=current_api_staff().email)


@owner_only.get("/whoami")
def owner_whoami():
    return jsonify(staff=current_api_staff().email)


class PlainApiPlugin:
    __name__ = "plain_api"

    @hookimpl
    def register_blueprints(self, register):
        register(plain)
        register(owner_only)


@pytest.fixture
def siyu_plugins():
    return [PlainApiPlugin()]


@pytest.mark.parametrize("header, token", [
    ("Bearer siyu_abc", "siyu_abc"), ("bearer siyu_abc", "siyu_abc"), ("BEARER  siyu_abc ", "siyu_abc"),
    ("Basic siyu_abc", None), ("Bearer", None), ("Bearer ", None), ("", None), ("Bearersiyu_abc", None),
    ("Bearer " + "x" * 400, None),
])
def test_bearer_token_reads_the_scheme_in_any_case(app, header, token):
    with app.test_request_context():
        assert bearer_token(header) == token


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_core_api_and_a_plugins_plain_api_accept_bearer_in_any_case(client, db, scheme):
    agent = make_staff(db, "agent")
    _token, secret = create_token(db, agent, "agent token", "agent")
    headers = {"Authorization": f"{scheme} {secret}"}
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    response = client.get("/api/v1/plain/whoami", headers=headers)
    assert response.status_code == 200 and response.get_json() == {"staff": agent.email}


def test_a_plugins_plain_api_refuses_as_the_core_api_does(client, db):
    agent = make_staff(db, "agent")
    _token, secret = create_token(db, agent, "agent token", "agent")
    for headers in ({}, {"Authorization": "bearer siyu_unknown"}, {"Authorization": f"Basic {secret}"}):
        core = client.get("/api/v1/products", headers=headers)
        plugin = client.get("/api/v1/plain/whoami", headers=headers)
        assert core.status_code == plugin.status_code == 401
        assert core.mimetype == plugin.mimetype == "application/problem+json"
        assert core.headers["WWW-Authenticate"] == plugin.headers["WWW-Authenticate"]
        assert core.get_json()["title"] == plugin.get_json()["title"]
    refused = client.get("/api/v1/plain-owner/whoami", headers={"Authorization": f"bearer {secret}"})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
