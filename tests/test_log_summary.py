"""The shop's log: repeated identical errors are written once in full, then as a count; a
payment alarm's first occurrence is never held back; every line carries its time, level and
logger name when the shop sets up logging (``create_app``, unless the host configured its own).

Before: a 10-second database outage wrote about 214,000 lines of tracebacks.
"""
import io
import logging
import re
from contextlib import contextmanager

import pytest
from conftest import login, make_product
from fault_helpers import failing_database
from flask import Blueprint

from siyu.core import hookimpl
from siyu.storefront import create_app
from siyu.storefront.logs import FORMAT, SummarisingHandler, configure_logging

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[\d+\] (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ ")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make_handler(window=60.0):
    stream = io.StringIO()
    handler = SummarisingHandler(stream, window=window)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler._clock = clock = Clock()
    return handler, stream, clock


def record(name, msg, *args, level=logging.ERROR, exc=None, **extra):
    exc_info = None
    if exc is not None:
        try:
            raise exc
        except Exception as raised:
            exc_info = (type(raised), raised, raised.__traceback__)
    made = logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)
    made.__dict__.update(extra)
    return made


def lines(stream):
    return stream.getvalue().splitlines()


def test_the_same_error_is_written_once_in_full_then_counted():
    handler, stream, clock = make_handler()
    for _ in range(1000):
        handler.handle(record("siyu.storefront", "database unavailable", exc=ConnectionError("refused")))
        clock.now += 0.01  # 1,000 errors in 10 s
    assert stream.getvalue().count("Traceback") == 1
    clock.now += 60  # the window is over: the next record through the handler writes the count
    handler.handle(record("siyu.jobs", "something else"))
    output = lines(stream)
    assert any("[999 more like this in the last" in line for line in output), output
    assert len(output) < 10, output


def test_a_burst_that_goes_on_adds_a_count_line_per_window_and_a_quiet_window_starts_anew():
    handler, stream, clock = make_handler(window=60)
    error = lambda: record("siyu.storefront", "boom", exc=RuntimeError("x"))  # noqa: E731
    for _ in range(600):  # 10 minutes, one a second
        handler.handle(error())
        clock.now += 1
    output = stream.getvalue()
    assert output.count("Traceback") == 1
    assert 8 <= output.count("more like this") <= 10, output
    clock.now += 600  # quiet for a long while, then it happens again: written in full
    handler.handle(error())
    assert stream.getvalue().count("Traceback") == 2


def test_every_payment_alarm_is_written_the_first_time_whatever_else_repeats():
    handler, stream, clock = make_handler()
    for n in range(200):
        handler.handle(record("siyu.storefront", "database unavailable", exc=ConnectionError("refused")))
        if n % 10 == 0:  # a different order's alarm among the repeated errors
            handler.handle(record("siyu.payments", "could not read payment intent %s of order %s: %s",
                                  f"pi_{n}", f"SY{n:04d}", "timeout", exc=TimeoutError("stripe"),
                                  order_number=f"SY{n:04d}"))
        clock.now += 0.01
    handler.handle(record("siyu.payments", "order %s was paid after it was cancelled", "SY0001",
                          order_number="SY0001"))
    output = stream.getvalue()
    for n in range(0, 200, 10):
        assert f"could not read payment intent pi_{n} of order SY{n:04d}" in output, n
    assert "order SY0001 was paid after it was cancelled" in output
    assert output.count("ERROR siyu.payments") == 21
    # The same alarm again (a redelivered webhook) is counted like any repeat.
    handler.handle(record("siyu.payments", "order %s was paid after it was cancelled", "SY0001",
                          order_number="SY0001"))
    assert stream.getvalue().count("paid after it was cancelled") == 1


def test_different_messages_levels_and_loggers_are_never_merged():
    handler, stream, _clock = make_handler()
    handler.handle(record("siyu.coupons", "claim failed for %s", "A"))
    handler.handle(record("siyu.coupons", "claim failed for %s", "B"))
    handler.handle(record("siyu.coupons", "claim failed for %s", "A", level=logging.WARNING))
    handler.handle(record("siyu.checkin", "claim failed for %s", "A"))
    handler.handle(record("siyu.coupons", "x", exc=ValueError("one")))
    handler.handle(record("siyu.coupons", "x", exc=ValueError("two")))
    assert len([line for line in lines(stream) if LINE.match(line)]) == 6


def test_pending_counts_are_written_when_the_handler_closes():
    handler, stream, _clock = make_handler()
    for _ in range(5):
        handler.handle(record("siyu.storefront", "boom"))
    handler.close()
    assert "[4 more like this in the last" in stream.getvalue()


@contextmanager
def bare_root():
    """The root logger as a host that configured nothing leaves it (pytest's own capture
    handlers set aside for the while)."""
    root = logging.getLogger()
    kept_handlers, kept_level = root.handlers[:], root.level
    shop = logging.getLogger("siyu")
    kept_shop_level = shop.level
    root.handlers[:] = []
    try:
        yield root
    finally:
        for handler in root.handlers:
            if getattr(handler, "siyu_installed", False):
                handler.close()
        root.handlers[:] = kept_handlers
        root.setLevel(kept_level)
        shop.setLevel(kept_shop_level)


def test_create_app_sets_up_logging_for_every_logger_of_the_shop_with_time_level_and_name(tmp_path):
    with bare_root() as root:
        check_installed_logging(root, tmp_path)


def check_installed_logging(bare_root, tmp_path):
    tracing = logging.getLogger("siyu.hooks")
    tracing_handlers = list(tracing.handlers)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}", "SECRET_KEY": "x", "TESTING": True,
                      "TRACE_HOOKS": True}, instance_path=str(tmp_path / "instance"))
    assert tracing.handlers == tracing_handlers, "hook tracing writes through the shop's handler, once"
    ours = [h for h in bare_root.handlers if isinstance(h, SummarisingHandler)]
    assert len(ours) == 1, bare_root.handlers
    stream = io.StringIO()
    ours[0].setStream(stream)
    assert app.logger.handlers == [], "Flask added no handler of its own: one line per record"
    for name in ("siyu.storefront", "siyu.payments", "siyu.plugins", "siyu.coupons", "siyu.jobs"):
        logging.getLogger(name).error("a line from %s", name)
    logging.getLogger("siyu.payments").warning("a warning")
    output = lines(stream)
    assert len(output) == 6 and all(LINE.match(line) for line in output), output
    assert "] ERROR siyu.payments a line from siyu.payments" in output[1]
    assert "] WARNING siyu.payments a warning" in output[5]
    second = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}", "SECRET_KEY": "x"},
                        instance_path=str(tmp_path / "instance"))
    assert second and len([h for h in bare_root.handlers if isinstance(h, SummarisingHandler)]) == 1


def test_a_host_that_configured_logging_keeps_its_own():
    with bare_root() as root:
        check_host_logging(root)


def check_host_logging(bare_root):
    host = logging.StreamHandler(io.StringIO())
    bare_root.addHandler(host)
    assert configure_logging({}) is None and bare_root.handlers == [host]
    assert configure_logging({"LOG_SETUP": "host"}) is None
    forced = configure_logging({"LOG_SETUP": "siyu"}, stream=io.StringIO())
    assert isinstance(forced, SummarisingHandler) and bare_root.handlers == [host, forced]


boom = Blueprint("log_boom", __name__)


@boom.get("/log-boom/<name>")
def unexpected(name):
    raise RuntimeError("the same bug on every path")


class BoomPlugin:
    __name__ = "log_boom"

    @hookimpl
    def register_blueprints(self, register):
        register(boom)


@pytest.fixture
def siyu_plugins():
    return [BoomPlugin()]


@pytest.fixture
def siyu_config():
    return {"PROPAGATE_EXCEPTIONS": False}


def test_an_outage_and_a_bug_on_every_path_log_a_few_lines_not_a_flood(app, db, member):
    product = make_product(db, "LOG-1")
    stream = io.StringIO()
    handler = SummarisingHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        client = app.test_client()
        login(client)
        with failing_database(app, down=True):
            for n in range(100):
                path = ("/", "/account/orders", f"/p/{product.id}", "/cart/", "/chat")[n % 5]
                assert client.get(path).status_code == 503
        for n in range(100):
            assert client.get(f"/log-boom/{n}").status_code == 500
        handler.flush_counts()
    finally:
        root.removeHandler(handler)
    output = lines(stream)
    assert sum("Traceback" in line for line in output) == 1, "the bug's traceback once"
    assert sum(" database unavailable on " in line for line in output if "more like this" not in line) == 1
    assert any("[99 more like this" in line for line in output), output
    assert len(output) < 60, len(output)  # the traceback's own lines included
