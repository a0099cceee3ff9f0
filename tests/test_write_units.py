"""write_transaction: one unit of work, and a savepoint of it when nested (never an early commit)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from siyu.core.db import write_transaction
from siyu.core.models import Setting


def stored(kernel) -> dict[str, object]:
    """What another connection sees: only committed rows."""
    with kernel.db.Session() as other:
        return {row.key: row.value for row in other.scalars(select(Setting).where(Setting.plugin == "units"))}


def put(session, key: str, value: object) -> None:
    session.add(Setting(plugin="units", key=key, value=value))
    session.flush()


def test_a_nested_unit_commits_with_the_outer_one_not_before(kernel, db):
    with write_transaction(db):
        put(db, "outer", 1)
        with write_transaction(db):
            put(db, "inner", 2)
        assert stored(kernel) == {}  # the inner unit did not commit the outer one
        put(db, "after", 3)
    assert stored(kernel) == {"outer": 1, "inner": 2, "after": 3}


def test_a_failing_nested_unit_rolls_back_to_its_savepoint(kernel, db):
    with write_transaction(db):
        put(db, "outer", 1)
        with pytest.raises(ValueError):
            with write_transaction(db):
                put(db, "inner", 2)
                raise ValueError("refused")
        put(db, "after", 3)
    assert stored(kernel) == {"outer": 1, "after": 3}


def test_an_error_escaping_the_nested_unit_rolls_back_everything(kernel, db):
    with pytest.raises(ValueError):
        with write_transaction(db):
            put(db, "outer", 1)
            with write_transaction(db):
                put(db, "inner", 2)
                raise ValueError("refused")
    assert stored(kernel) == {}
    with write_transaction(db):  # the session is usable again, as a unit of its own
        put(db, "next", 4)
    assert stored(kernel) == {"next": 4}


def test_a_unit_ended_by_hand_refuses_a_nested_one(db):
    with pytest.raises(RuntimeError, match="committed or rolled back by hand"):
        with write_transaction(db):
            db.commit()
            with write_transaction(db):
                pass
