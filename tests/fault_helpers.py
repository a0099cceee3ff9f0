"""Making the database fail from the engine's events, as an outage would (see
``tests/test_error_pages.py`` and ``tests/test_log_summary.py``)."""
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import OperationalError


class DatabaseFault:
    """Fails the database from the ``skip + 1``-th statement after arming; records every
    statement tried after that failure (making an error page must try none)."""

    def __init__(self, engine, skip=0, down=False, match=None):
        self.engine, self.skip, self.down, self.match = engine, skip, down, match
        self.seen, self.failed, self.after_failure = 0, False, []

    def _error(self, statement):
        return OperationalError(statement, None, ConnectionError("injected: server closed the connection"))

    def before_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.failed:
            self.after_failure.append(statement)
            if self.down:
                raise self._error(statement)
            return
        if self.match is not None and self.match not in statement:
            return
        self.seen += 1
        if self.seen <= self.skip:
            return
        self.failed = True
        if conn.dialect.name == "postgresql":
            try:  # the server refuses a statement: the transaction is aborted, as after a failed query
                cursor.execute("SELECT 1 / 0")
            except Exception:
                pass
        raise self._error(statement)

    def rollback(self, conn):
        if self.failed and self.down:
            raise self._error("ROLLBACK")


@contextmanager
def failing_database(app, skip=0, down=False, match=None):
    """Fail the ``skip + 1``-th statement (containing ``match``, if given) and, when ``down``,
    every one after it."""
    fault = DatabaseFault(app.extensions["siyu"].db.engine, skip, down, match)
    engine = fault.engine
    event.listen(engine, "before_cursor_execute", fault.before_cursor_execute)
    event.listen(engine, "rollback", fault.rollback)
    try:
        yield fault
    finally:
        event.remove(engine, "before_cursor_execute", fault.before_cursor_execute)
        event.remove(engine, "rollback", fault.rollback)


@contextmanager
def statements(app):
    """Every statement the app's engine runs meanwhile (SQLite's own BEGIN left out)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement != "BEGIN":
            seen.append(statement)

    engine = app.extensions["siyu"].db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
