"""docs/examples/payment_code, the example payment gateway, passes its own tests against this core."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("segno")  # the example draws its QR code with segno, as a real gateway plugin would

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "payment_code"


def test_the_example_gateway_passes_its_tests():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(EXAMPLE), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                            capture_output=True, text=True, cwd=EXAMPLE, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
