"""Simultaneous wrong passwords each count once on PostgreSQL (no lost update), for an
address with an account and for one without; the lock holds under a burst.

Threads are released together by a barrier; each uses its own session and connection.
"""
import pytest
from sqlalchemy import select

from siyu.core import signin
from siyu.core.members import authenticate, sign_up
from siyu.core.signin import AccountLocked
from siyu.storefront.testing_checks import run_together

pytestmark = pytest.mark.postgres
K = 12


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def burst(pg, email, password, n=K):
    def attempt(_i):
        session = pg.db.Session()
        try:
            return authenticate(pg, session, email, password)
        finally:
            session.close()

    return run_together(n, attempt)


@pytest.mark.parametrize("siyu_config", [{"SIGNIN_LOCK_AFTER": 1000}])
def test_simultaneous_wrong_passwords_all_count(pg):
    session = pg.db.Session()
    sign_up(pg, session, email="target@example.com", password="correct-horse")
    for email in ("target@example.com", "nobody@example.com"):  # an update race, then an insert race
        results, errors = burst(pg, email, "wrong-password")
        assert errors == [] and results == [None] * K
        session.expire_all()
        assert signin.state(session, "member", email).failures == K
    session.close()


def test_a_burst_of_wrong_passwords_locks_the_address(pg):
    session = pg.db.Session()
    sign_up(pg, session, email="target@example.com", password="correct-horse")
    results, errors = burst(pg, "target@example.com", "wrong-password")
    # The first four are plain failures; the fifth locks; tries that find the lock are refused
    # without counting, so between 5 and K failures are recorded, never more.
    assert results.count(None) == 4 and len(errors) == K - 4
    assert all(isinstance(e, AccountLocked) for e in errors)
    session.expire_all()
    row = signin.state(session, "member", "target@example.com")
    assert 5 <= row.failures <= K and signin.locked_until(row) is not None
    with pytest.raises(AccountLocked):
        authenticate(pg, session, "target@example.com", "correct-horse")
    assert session.scalar(select(signin.SignInFailure.failures)) == row.failures
    session.close()
