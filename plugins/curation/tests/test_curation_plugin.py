"""The plugin as a plugin: enabling and disabling, its migration branch, its hooks for others,
its JSON API."""
import hashlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from siyu.plugin import ApiToken, Base, hookimpl, migrate, SiyuError, write_transaction
from siyu_curation import service


@pytest.fixture
def core_only(app, tmp_path):
    """A second shop on the same database with the plugin disabled (installed, not enabled)."""
    from siyu.plugin.testing import create_app

    other = create_app({"TESTING": True, "SECRET_KEY": "x", "SECURE_COOKIES": False, "RATELIMIT_ENABLED": False,
                        "DATABASE_URL": app.config["DATABASE_URL"], "PLUGINS": []},
                       instance_path=str(tmp_path / "core-only"))
    yield other
    other.extensions["siyu"].db.dispose()


def test_disabling_returns_the_storefront_to_the_core_listing(app, core_only, kernel, db, products, shop_page):
    service.publish(kernel, db, "main", products[0].id)
    curated = shop_page("/")
    assert "Product 1<" in curated and "Product 2<" not in curated and "sort=price" not in curated
    html = core_only.test_client().get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert all(f"Product {n}<" in html for n in range(1, 41)) and "sort=price_asc" in html
    assert "curation-heroes" not in html and "curation.css" not in html
    assert core_only.test_client().get("/admin/curation/").status_code == 404
    assert core_only.test_client().get("/c/anything").status_code == 404


def test_plugins_command_lists_curation_enabled(runner):
    result = runner.invoke(args=["siyu", "plugins"])
    assert "curation" in result.output and "catalog_products" in result.output


def test_own_branch_matches_the_models(kernel):
    script = ScriptDirectory.from_config(migrate.alembic_config(kernel))
    first = script.get_revision("curation_0001")
    assert first.branch_labels == {"curation"} and first.down_revision is None
    assert migrate.current_heads(kernel) == set(script.get_heads())
    with kernel.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), Base.metadata)
    ours = [d for d in diff if "curation_" in repr(d)]
    assert ours == []


def test_main_catalog_exists_after_upgrade(db):
    catalog = service.get_catalog(db, "main")
    assert catalog.cap == 30 and catalog.owner_key is None


class DistributorPicks:
    """What a distribution plugin would do, without importing curation."""

    @hookimpl(optionalhook=True)
    def curation_owner_label(self, owner_key):
        return "Li Ming (distributor)" if owner_key == "distributor:7" else None


def test_other_plugins_use_catalogs_through_hooks(app, kernel, db, products, register_plugin, owner_client):
    register_plugin(DistributorPicks(), name="picks")
    hook = kernel.pm.hook
    with write_transaction(db):
        info = hook.curation_ensure_catalog(kernel=kernel, session=db, key="distributor:7", title="Li's picks",
                                            owner_key="distributor:7", cap=2)
        hook.curation_publish(kernel=kernel, session=db, key="distributor:7", product_id=products[0].id)
        hook.curation_publish(kernel=kernel, session=db, key="distributor:7", product_id=products[1].id)
    assert info["url_path"] == "/c/distributor:7" and info["cap"] == 2
    with pytest.raises(SiyuError) as refused:
        with write_transaction(db):
            hook.curation_publish(kernel=kernel, session=db, key="distributor:7", product_id=products[2].id)
    assert refused.value.status == 409
    assert [p.id for p in hook.curation_catalog_products(session=db, key="distributor:7")] == \
        [products[0].id, products[1].id]
    page = owner_client.get("/admin/curation/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Li Ming (distributor)" in page


def test_a_plugin_vetoing_a_change_rolls_it_back(kernel, db, products, register_plugin):
    class Veto:
        @hookimpl
        def curation_on_changed(self, catalog_key, action):
            if action == "published":
                raise RuntimeError("no")

    register_plugin(Veto(), name="veto")
    with pytest.raises(SiyuError):
        service.publish(kernel, db, "main", products[0].id)
    db.rollback()
    assert service.cap_report(db, service.get_catalog(db, "main")).count == 0


@pytest.fixture
def api_token(db, owner):
    raw = "siyu_test-token-for-curation-api"
    with write_transaction(db):
        db.add(ApiToken(staff_id=owner.id, name="ci", prefix=raw[:12], role="agent",
                        token_hash=hashlib.sha256(raw.encode()).hexdigest()))
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


def test_api_publishes_and_refuses_past_the_cap(client, kernel, db, products, api_token):
    assert client.get("/api/v1/curation/catalogs/main").status_code == 401
    service.set_cap(kernel, db, "main", 2)
    for p in products[:2]:
        response = client.post("/api/v1/curation/catalogs/main/items", json={"product_id": p.id}, headers=api_token)
        assert response.status_code == 201, response.get_json()
    refused = client.post("/api/v1/curation/catalogs/main/items", json={"product_id": products[2].id},
                          headers=api_token)
    body = refused.get_json()
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "at most 2 items" in body["title"] and body["cap"] == 2 and body["suggest"]
    bad = client.post("/api/v1/curation/catalogs/main/items", json={"product_id": "x"}, headers=api_token)
    assert bad.status_code == 422 and "product_id" in bad.get_json()["errors"]
    gone = client.delete(f"/api/v1/curation/catalogs/main/items/{products[0].id}", headers=api_token)
    assert gone.status_code == 200 and gone.get_json()["count"] == 1
    assert client.delete(f"/api/v1/curation/catalogs/main/items/{products[0].id}", headers=api_token).status_code == 404
    assert client.get("/api/v1/curation/catalogs/nope", headers=api_token).status_code == 404


def test_the_demo_shop_opens_with_its_catalog_curated(runner, client):
    result = runner.invoke(args=["siyu", "seed", "--demo"])
    assert result.exit_code == 0, result.output
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nothing on the shelves yet" not in html
    assert html.count('class="tile"') == 12  # every demo product, within the cap of 30
    again = runner.invoke(args=["siyu", "seed", "--demo"])
    assert again.exit_code == 0 and client.get("/").status_code == 200
