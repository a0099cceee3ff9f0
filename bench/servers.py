"""gunicorn servers and wrk runs for the benchmarks (``bench/run.py``)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

WRK_THREADS = 2
WRK_CONNECTIONS = 16
WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One gunicorn master with its workers, in a process group of its own."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path, pages: dict[str, str],
                 headers: dict[str, str]):
        self.name = name
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.pages = pages        # what is measured: {"home": "/", "product": "/p/1"}
        self.headers = headers
        self.log = log
        self.proc = subprocess.Popen(
            [*command[:1], "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", *command[1:]],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def url(self, page: str) -> str:
        return self.root + self.pages[page]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.request(next(iter(self.pages))), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def request(self, page: str) -> urllib.request.Request:
        return urllib.request.Request(self.url(page), headers=self.headers)

    def fetch(self, page: str) -> tuple[bytes, dict[str, str]]:
        with urllib.request.urlopen(self.request(page), timeout=30) as response:
            return response.read(), dict(response.headers)

    def workers(self) -> list[int]:
        master = self.proc.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        if children.exists():
            return sorted(int(pid) for pid in children.read_text().split())
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            match = re.search(r"^PPid:\s+(\d+)", text, re.M)
            if match and int(match.group(1)) == master:
                pids.append(int(status.parent.name))
        return sorted(pids)

    def settle(self, timeout: float = 15) -> None:
        """Wait until the workers stop using CPU: a slow server still answers requests wrk gave
        up on, and that work must not land on the next server's measurement."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            busy = sum(cpu_ticks(pid) for pid in self.workers())
            if busy == last:
                return
            last = busy
            time.sleep(0.5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # workers left behind by a master that died or hung
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kib(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.M)
    return int(match.group(1)) if match else None


def wrk_args(url: str, duration: int, headers: dict[str, str]) -> list[str]:
    # A slow peer must not turn into timeouts: wrk's default gives up after 2 s.
    args = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", "--timeout", "30s", "--latency"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    return args + [url]


def to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(value)
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> dict:
    result: dict = {"non2xx": 0, "socket_errors": ""}
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    result["rps"] = float(match.group(1))
    match = re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", output)
    if match:
        result["avg_ms"], result["stdev_ms"], result["max_ms"] = (to_ms(v) for v in match.groups())
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+\w+)", output, re.M)
        if match:
            result[f"p{pct}_ms"] = to_ms(match.group(1))
    match = re.search(r"(\d+) requests in", output)
    result["requests"] = int(match.group(1)) if match else 0
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if match:
        result["non2xx"] = int(match.group(1))
    match = re.search(r"Socket errors:\s+(.*)", output)
    if match:
        result["socket_errors"] = match.group(1).strip()
    return result


def run_wrk(url: str, duration: int, headers: dict[str, str]) -> dict:
    done = subprocess.run(wrk_args(url, duration, headers), capture_output=True, text=True,
                          timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


def run_wrk_together(urls: dict[str, str], duration: int, headers: dict[str, str]) -> dict[str, dict]:
    """Load every server at once: each gets about the same share of the CPU, so the ratio of
    their throughputs is the inverse ratio of their costs, whatever else the machine runs."""
    procs = {name: subprocess.Popen(wrk_args(url, duration, headers), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for name, url in urls.items()}
    results = {}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=duration + 60)
            if proc.returncode != 0:
                raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
            results[name] = parse_wrk(out)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results
