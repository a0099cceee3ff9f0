"""The cap under concurrency, proven on PostgreSQL (SQLite serialises writers anyway).

Threads are released together by a barrier; each has its own session and connection.
"""

import pytest
from sqlalchemy import func, select

from siyu.plugin import SiyuError, ValidationError
from siyu.plugin.testing import run_together
from siyu_curation import service
from siyu_curation.models import CurationItem
from siyu_curation.service import CapReached

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


@pytest.fixture
def pg_session(pg):
    session = pg.db.Session()
    yield session
    session.close()


def in_own_session(pg, action):
    def work(i):
        session = pg.db.Session()
        try:
            return action(session, i)
        finally:
            session.close()
    return work


def listed_count(session, key="main"):
    session.rollback()
    catalog = service.get_catalog(session, key)
    return session.scalar(select(func.count()).where(CurationItem.catalog_id == catalog.id))


def test_thirtieth_and_thirty_first_at_once_never_exceed_the_cap(pg, pg_session, make_product):
    products = [make_product(pg_session) for _ in range(31)]
    for p in products[:29]:
        service.publish(pg, pg_session, "main", p.id)
    for attempt in range(5):  # the race again and again, not a lucky interleaving
        results, errors = run_together(2, in_own_session(
            pg, lambda s, i: service.publish(pg, s, "main", products[29 + i].id)))
        assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], CapReached), errors
        assert listed_count(pg_session) == 30
        service.unpublish(pg, pg_session, "main", results[0].product_id)


def test_many_staff_publishing_into_a_nearly_full_catalog(pg, pg_session, make_product):
    products = [make_product(pg_session) for _ in range(45)]
    service.ensure_catalog(pg, pg_session, "fair", cap=30)
    for p in products[:25]:
        service.publish(pg, pg_session, "fair", p.id)
    results, errors = run_together(20, in_own_session(
        pg, lambda s, i: service.publish(pg, s, "fair", products[25 + i].id)))
    assert len(results) == 5 and len(errors) == 15
    assert all(isinstance(e, CapReached) for e in errors)
    assert listed_count(pg_session, "fair") == 30
    seats = pg_session.scalars(select(CurationItem.seat).where(CurationItem.catalog_id ==
                                                               service.get_catalog(pg_session, "fair").id))
    assert sorted(seats) == list(range(1, 31))


def test_same_product_published_twice_at_once_is_listed_once(pg, pg_session, make_product):
    product = make_product(pg_session)
    results, errors = run_together(6, in_own_session(pg, lambda s, i: service.publish(pg, s, "main", product.id)))
    assert len(results) == 1 and len(errors) == 5 and all(isinstance(e, ValidationError) for e in errors)
    assert listed_count(pg_session) == 1


def test_swaps_and_publishes_racing_on_a_full_catalog(pg, pg_session, make_product):
    products = [make_product(pg_session) for _ in range(40)]
    service.ensure_catalog(pg, pg_session, "small", cap=5)
    for p in products[:5]:
        service.publish(pg, pg_session, "small", p.id)

    def work(session, i):
        if i % 2:
            return service.swap(pg, session, "small", products[i // 2].id, products[10 + i].id)
        return service.publish(pg, session, "small", products[20 + i].id)

    results, errors = run_together(10, in_own_session(pg, work))
    assert all(isinstance(e, SiyuError) for e in errors), errors
    assert len(results) == 5  # the five swaps; every publish was refused
    assert listed_count(pg_session, "small") == 5


def test_concurrent_catalog_creation_makes_one(pg, pg_session):
    results, errors = run_together(5, in_own_session(
        pg, lambda s, i: service.ensure_catalog(pg, s, "distributor:9", owner_key="distributor:9", cap=10).id))
    assert errors == [] and len(set(results)) == 1
