"""Twenty seconds of mixed traffic against gunicorn (2 workers) on PostgreSQL, 127.0.0.1 only:
no 5xx, and every invariant of the books holds afterwards. The full two minutes is
``python bench/load.py`` by hand (see docs/reliability.md)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from siyu.core.plugins import installed_entry_points
from siyu.storefront.testing_pg import find_pg_bin

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.mark.skipif(os.environ.get("SIYU_TEST_DATABASE", "").startswith("postgres"),
                    reason="starts its own PostgreSQL: run once per suite, in the first pass")
def test_short_mixed_load_has_no_server_errors_and_the_books_hold(tmp_path):
    bundled = {p.name for p in (ROOT / "plugins").iterdir() if (p / "setup.cfg").exists()}
    if not bundled <= {ep.name for ep in installed_entry_points()}:
        pytest.skip("the mixed load runs the shop with every bundled plugin (not installed here)")
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI but no server could be started")
        pytest.skip("PostgreSQL server binaries not installed")
    out = tmp_path / "load.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--short", "--json", str(out)],
                         capture_output=True, text=True, timeout=180)
    assert out.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["transport_errors"] == 0, report["by_action"]
    codes = [int(code) for action in report["by_action"].values() for code in action for _ in range(action[code])]
    assert not [c for c in codes if c >= 500 and c != 503], report["by_action"]
    # A transaction PostgreSQL aborts is answered 503 + Retry-After with nothing written; the
    # deadlock once seen here is fixed (docs/reliability.md), the margin stays for safety.
    assert codes.count(503) <= max(1, len(codes) // 1000), report["server_log_excerpts"]
    assert report["server_tracebacks"] == 0
    assert report["violations"] == []
    done = report["by_action"]
    for action in ("home", "product", "cart_add", "checkout", "chat_post", "chat_poll", "checkin", "api_mark_paid"):
        assert any(code.startswith("2") for code in done.get(action, {})), (action, done)
    assert report["rows"]["orders"] > 0 and report["rows"]["messages"] > 0
    if 503 not in codes:  # load.py itself exits 1 on any 5xx, the tolerated 503 included
        assert run.returncode == 0, run.stderr[-3000:]
