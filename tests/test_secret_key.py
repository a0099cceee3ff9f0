"""The instance's secret key is created once, atomically, however many workers start together.

Eight real processes (not threads: each has its own interpreter, as gunicorn's workers do) are
released at the same moment against a fresh instance folder, several rounds; every one must
read the same non-empty key, and nothing but the key file is left in the folder.
"""
import multiprocessing
import os
import stat

import pytest

from siyu.storefront.security import load_or_create_secret_key

PROCESSES = 8
ROUNDS = 40


def _worker(barrier, folder, results):
    try:
        barrier.wait(timeout=30)
        results.put(("ok", load_or_create_secret_key(folder)))
    except BaseException as exc:  # reported to the test, which fails on it
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_eight_processes_creating_the_key_at_once_all_read_the_same_key(tmp_path, round_):
    ctx = _context()
    folder = str(tmp_path)
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(barrier, folder, results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    errors = [detail for kind, detail in outcomes if kind == "error"]
    assert errors == []
    keys = {detail for _kind, detail in outcomes}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert sorted(os.listdir(folder)) == ["secret_key"], "no temporary file is left behind"
    assert stat.S_IMODE(os.stat(os.path.join(folder, "secret_key")).st_mode) == 0o600


def test_an_existing_key_is_kept(tmp_path):
    (tmp_path / "secret_key").write_text("kept-key\n")
    assert load_or_create_secret_key(str(tmp_path)) == "kept-key"


def test_a_key_file_left_empty_is_reported_not_replaced(tmp_path, monkeypatch):
    (tmp_path / "secret_key").write_text("")
    monkeypatch.setattr("siyu.storefront.security.time.sleep", lambda _s: None)
    with pytest.raises(RuntimeError, match="empty"):
        load_or_create_secret_key(str(tmp_path))
    assert (tmp_path / "secret_key").read_text() == ""
