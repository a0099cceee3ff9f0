"""The test kit's throwaway PostgreSQL leaves nothing behind when it cannot start.

Before: without psycopg, ``PostgresCluster._wait`` raised after ``pg_ctl start`` and before any
stop was registered, so every plugin test run left a server and its folder behind.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from siyu.storefront import testing_pg
from siyu.storefront.testing_pg import PostgresCluster, PostgresUnavailable, find_pg_bin


@pytest.fixture
def made_folders(monkeypatch):
    """The folders ``PostgresCluster.start`` creates, recorded."""
    made = []
    real = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(Path(real(*args, **kwargs)))
        return str(made[-1])

    monkeypatch.setattr(testing_pg.tempfile, "mkdtemp", mkdtemp)
    return made


def test_missing_psycopg_is_reported_before_initdb(monkeypatch, made_folders):
    ran = []
    monkeypatch.setitem(sys.modules, "psycopg", None)  # "import psycopg" raises ImportError
    monkeypatch.setattr(testing_pg.subprocess, "run", lambda *a, **k: ran.append(a))
    with pytest.raises(PostgresUnavailable, match="psycopg"):
        PostgresCluster.start()
    assert ran == [] and made_folders == [], "nothing was run or created"


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper, which is not ours, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")


def _gone(pid: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("failure", [ImportError("No module named 'psycopg'"), KeyboardInterrupt()],
                         ids=["psycopg-missing-after-start", "interrupted"])
def test_a_failure_after_pg_ctl_start_stops_the_server_and_removes_its_folder(monkeypatch, made_folders, failure):
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are required in CI")
        pytest.skip("PostgreSQL server binaries not installed")
    seen = {}

    def failing_wait(self, timeout=30):
        # The server is up: note its process and port, then fail as a missing driver would.
        data = made_folders[0] / "data"
        lines = (data / "postmaster.pid").read_text().splitlines()
        seen["pid"], seen["port"] = int(lines[0]), int(lines[3])
        assert _alive(seen["pid"])
        raise failure

    monkeypatch.setattr(PostgresCluster, "_wait", failing_wait)
    with pytest.raises(type(failure)):
        PostgresCluster.start()
    assert seen, "the failure came after pg_ctl start"
    assert _gone(seen["pid"]), "the server was stopped"
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(2)
        sock.connect(("127.0.0.1", seen["port"]))
    assert not made_folders[0].exists(), "its folder was removed"


SHOP_TEST = '''
def test_a_shop(siyu_app, siyu_db):
    from sqlalchemy import text
    assert siyu_db.execute(text("select count(*) from members")).scalar() == 0
'''


@pytest.mark.postgres
def test_a_reused_cluster_serves_one_session_after_another(tmp_path):
    """``SIYU_TEST_POSTGRES_URL``: before, the second session failed on ``DuplicateDatabase
    "tpl_0"``; each session now names its templates after itself and drops what it made."""
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are required in CI")
        pytest.skip("PostgreSQL server binaries not installed")
    import psycopg

    (tmp_path / "test_shop.py").write_text(SHOP_TEST)
    cluster = PostgresCluster.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SIYU_"))}
        env.update(SIYU_TEST_DATABASE="postgresql", SIYU_TEST_POSTGRES_URL=cluster.url("postgres"))
        for _session in range(2):
            result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shop.py"],
                                    cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
            assert "1 passed" in result.stdout
        with psycopg.connect(cluster._dsn("postgres")) as conn:
            left = [row[0] for row in conn.execute("select datname from pg_database where not datistemplate")]
        assert sorted(left) == ["postgres"], "each session dropped the databases it created"
    finally:
        cluster.stop()


@pytest.mark.postgres
def test_the_throwaway_cluster_listens_on_the_chosen_port():
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = PostgresCluster.start(port)
    try:
        assert f"127.0.0.1:{port}" in cluster.base_url
    finally:
        cluster.stop()
