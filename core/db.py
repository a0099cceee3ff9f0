"""Engine, sessions and the write-transaction helper.

SQLite is the embedded default (WAL, busy timeout, foreign keys, ``BEGIN IMMEDIATE`` for
writes so two workers never fail with "database is locked" on a lock upgrade);
PostgreSQL (psycopg 3) is the production database and the one races are proven on.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base: core and plugin models share its metadata."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _make_folder_on_connect(engine)
        _tune_sqlite(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    return engine


def _make_folder_on_connect(engine: Engine) -> None:
    """An SQLite file's folder (the shop's instance folder) is made when the database is first
    opened, not when the app is built: a command that needs no database writes nothing."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return

    @event.listens_for(engine, "do_connect")
    def _folder(dialect, conn_rec, cargs, cparams):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (below) instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        # Writers take the lock up front: a deferred transaction that later writes can
        # fail at once with SQLITE_BUSY when another worker wrote in between.
        if conn.get_execution_options().get("siyu_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """An engine and its session factory; one per application (or CLI run)."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()


#: ``session.info`` key: how many ``write_transaction`` units are open on the session.
_OPEN_UNITS = "siyu_open_units"


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run a unit of work that writes: commit on success, roll back on any error.

    A read transaction already open on the session (e.g. loading the current member) is
    ended first, so the write starts from fresh data and, on SQLite, with the write lock.

    Nested inside an open unit (a service called from a hook, or from another service), it is
    a savepoint of that unit: its writes commit with the outer unit, never before it, and an
    error rolls back to the savepoint and propagates. So every service has one form, whether
    it is called alone or inside someone else's transaction.
    """
    depth = session.info.get(_OPEN_UNITS, 0)
    if depth:
        yield from _savepoint(session, depth)
        return
    session.info[_OPEN_UNITS] = 1
    try:
        if session.in_transaction():
            session.commit()
        session.connection(execution_options={"siyu_write": True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_OPEN_UNITS, None)


def _savepoint(session: Session, depth: int) -> Iterator[Session]:
    if not session.in_transaction():  # the outer unit's transaction was ended under it
        raise RuntimeError("write_transaction nested in a unit whose transaction was committed or "
                           "rolled back by hand: end units only by leaving their `with` block")
    savepoint = session.begin_nested()
    session.info[_OPEN_UNITS] = depth + 1
    try:
        yield session
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    finally:
        session.info[_OPEN_UNITS] = depth
