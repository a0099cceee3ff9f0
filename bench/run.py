"""Home-page benchmark: the storefront against a bare Flask + SQLAlchemy + Jinja page.

    .venv/bin/python bench/run.py                # 3 alternating rounds of 15 s, updates RESULTS.md
    .venv/bin/python bench/run.py --duration 10  # the same with 10 s per page and round
    .venv/bin/python bench/run.py --short        # one round of 5 s, printed only (for iterating)

In a temporary folder it migrates and seeds a shop (the demo's 12 products, topped up to 30
active ones), copies the same 30 products into the baseline's own SQLite file, then serves
both with gunicorn (2 sync workers each, 127.0.0.1 only): the storefront as
``siyu.storefront:create_app()`` with every installed plugin enabled (``SIYU_PLUGINS=*``),
the baseline as ``bench/baseline_app.py``. Both are warmed, then wrk loads each home page
in turn (``wrk -t2 -c16``) as an anonymous shopper (``Accept-Language: zh-CN`` and a visitor
cookie). Requests per second, latency and the RSS of each gunicorn worker are printed and,
unless ``--short`` or ``--no-write``, written into ``bench/RESULTS.md`` between its markers.
Every server started here is stopped at the end, on error and on Ctrl-C too.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
START_MARK = "<!-- bench:results:start -->"
END_MARK = "<!-- bench:results:end -->"

PRODUCTS = 30
WRK_THREADS = 2
WRK_CONNECTIONS = 16
WORKERS = 2
VISITOR = "bench-visitor-000000000001"
HEADERS = {"Accept-Language": "zh-CN", "Cookie": f"siyu_vid={VISITOR}"}

# Bilingual products added after the demo's dozen, so both pages list 30.
EXTRA = [
    ("龙井茶 礼盒", "Longjing tea gift box"), ("普洱熟茶饼 357g", "Ripe pu-erh cake 357 g"),
    ("铁观音 清香型", "Tieguanyin, light roast"), ("大红袍 岩茶", "Da Hong Pao rock tea"),
    ("茉莉花茶 100g", "Jasmine tea 100 g"), ("青瓷盖碗", "Celadon gaiwan"),
    ("竹制茶盘", "Bamboo tea tray"), ("公道杯 玻璃", "Glass fairness pitcher"),
    ("枣花蜜 500g", "Jujube honey 500 g"), ("绿豆糕 礼盒", "Mung bean cake gift box"),
    ("小米 2.5kg", "Foxtail millet 2.5 kg"), ("菜籽油 1L", "Rapeseed oil 1 l"),
    ("棉麻茶巾", "Linen tea towel"), ("锡制茶叶罐", "Pewter tea caddy"),
    ("桂花乌龙 80g", "Osmanthus oolong 80 g"), ("陈皮 10年", "Aged tangerine peel, 10 years"),
    ("手绘茶杯 一对", "Hand-painted cups, a pair"), ("苦荞茶 300g", "Tartary buckwheat tea 300 g"),
]


# ----------------------------------------------------------------------------- setup


def shop_env(instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SIYU_INSTANCE_PATH": str(instance),
        "SIYU_DATABASE_URL": f"sqlite:///{instance / 'siyu.db'}",
        "SIYU_PLUGINS": "*",
        "SIYU_SECURE_COOKIES": "0",
    })
    return env


def prepare_shop(instance: Path) -> list[dict]:
    """Migrate and seed through the CLI, top up to 30 products; return them for the baseline."""
    env = shop_env(instance)
    flask = [sys.executable, "-m", "flask", "--app", "siyu.storefront", "siyu"]
    for args in (["db", "upgrade"], ["seed", "--demo"]):
        subprocess.run(flask + args, env=env, check=True, stdout=subprocess.DEVNULL)

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from sqlalchemy import func, select

        from siyu.core import settings
        from siyu.core.db import write_transaction
        from siyu.core.models import Product, ProductImage
        from siyu.storefront import create_app

        app = create_app()
        siyu = app.extensions["siyu"]
        with siyu.db.Session() as session:
            with write_transaction(session):
                active = session.scalar(select(func.count()).where(Product.active.is_(True)))
                images = list(session.scalars(select(ProductImage.path).order_by(ProductImage.id)))
                start = session.scalar(select(func.max(Product.position))) or 0
                for n in range(PRODUCTS - active):
                    zh, en = EXTRA[n % len(EXTRA)]
                    product = Product(sku=f"BENCH-{n:03d}", title_zh=zh, title_en=en,
                                      description_zh="", description_en="",
                                      price=2800 + 1700 * n, currency="CNY", stock=10 + n,
                                      active=True, position=start + 1 + n)
                    if images:
                        product.images.append(ProductImage(path=images[n % len(images)], alt=en))
                    session.add(product)
                settings.bump_catalog_revision(session)
            list_everything(siyu, session)
            rows = []
            for p in session.scalars(select(Product).where(Product.active.is_(True))
                                     .order_by(Product.position, Product.id)):
                image = p.images[0] if p.images else None
                rows.append({"id": p.id, "title": p.title_zh, "price": p.price,
                             "currency": p.currency, "position": p.position,
                             "image": image.path if image else "", "alt": image.alt if image else ""})
        siyu.db.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if len(rows) != PRODUCTS:
        raise SystemExit(f"expected {PRODUCTS} active products, found {len(rows)}")
    return rows


def list_everything(siyu, session) -> None:
    """Bundled plugins that decide what the home page lists get all 30 products listed.

    The curation plugin lists its main catalog (capped, 30 by default) instead of every
    active product: fill it, as a merchant does from the back office.
    """
    if siyu.pm.get_plugin("curation") is not None:
        from siyu_curation import service
        from siyu_curation.models import MAIN

        service.ensure_catalog(siyu, session, MAIN)
        service.fill(siyu, session, MAIN)


def prepare_baseline(path: Path, rows: list[dict]) -> None:
    sys.path.insert(0, str(HERE))
    try:
        import baseline_app
    finally:
        sys.path.remove(str(HERE))
    baseline_app.seed(str(path), rows)


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One gunicorn master with its workers, in a process group of its own."""

    def __init__(self, name: str, app: str, env: dict[str, str], log: Path, extra=()):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", *extra, app],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.request(), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def request(self) -> urllib.request.Request:
        return urllib.request.Request(self.url, headers=HEADERS)

    def fetch(self) -> tuple[bytes, dict[str, str]]:
        with urllib.request.urlopen(self.request(), timeout=10) as response:
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


def rss_kib(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.M)
    return int(match.group(1)) if match else None


# ----------------------------------------------------------------------------- wrk


def wrk_args(url: str, duration: int) -> list[str]:
    args = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", "--latency"]
    for key, value in HEADERS.items():
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


def run_wrk(url: str, duration: int) -> dict:
    done = subprocess.run(wrk_args(url, duration), capture_output=True, text=True,
                          timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


def run_wrk_together(urls: dict[str, str], duration: int) -> dict[str, dict]:
    """Load every server at once: each gets about the same share of the CPU, so the ratio of
    their throughputs is the inverse ratio of their costs, whatever else the machine runs."""
    procs = {name: subprocess.Popen(wrk_args(url, duration), stdout=subprocess.PIPE,
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


# ----------------------------------------------------------------------------- report


def versions() -> dict[str, str]:
    found = {}
    for dist in ("Flask", "Werkzeug", "Jinja2", "SQLAlchemy", "gunicorn", "pluggy", "Flask-Babel"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "?"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    first = (wrk.stdout or wrk.stderr).strip().splitlines()
    found["wrk"] = first[0].split()[1] if first and len(first[0].split()) > 1 else "?"
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def plugin_names() -> list[str]:
    from siyu.core.plugins import installed_entry_points

    return [ep.name for ep in installed_entry_points()]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarise(runs: list[dict]) -> dict:
    keys = ("rps", "avg_ms", "p50_ms", "p90_ms", "p99_ms")
    return {key: median([r[key] for r in runs if key in r]) for key in keys} | {
        "rounds": [r["rps"] for r in runs],
        "non2xx": sum(r["non2xx"] for r in runs),
        "socket_errors": "; ".join(r["socket_errors"] for r in runs if r["socket_errors"]),
    }


def render_results(ctx: dict) -> str:
    s, b = ctx["siyu"], ctx["baseline"]
    ratios = [x / y for x, y in zip(s["rounds"], b["rounds"]) if y]
    ratio = median(ratios)
    t = ctx["together"]
    plugins = ", ".join(ctx["plugins"]) or "none installed besides the core's default plugins"
    lines = [
        f"Run on {ctx['date']} — {ctx['nproc']} cores ({ctx['cpu']}), Python {ctx['python']}, "
        f"load average before the run {ctx['loadavg']}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in ctx["versions"].items()) + ".",
        "",
        f"Storefront plugins enabled (`SIYU_PLUGINS=*`): {plugins}.",
        "",
        f"{ctx['rounds']} round(s) of `{' '.join(ctx['wrk_cmd'])}` per page, "
        f"order alternating ({ctx['order']}); figures are the median over rounds, the ratio "
        "the median of the rounds' ratios (each round loads both pages back to back, so a "
        "neighbour's load on the shared cores weighs on both sides of a ratio alike).",
        "",
        "| page | req/s | per round | avg ms | p50 ms | p90 ms | p99 ms | HTML bytes | non-2xx |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, key, r in (("storefront home (siyu)", "siyu", s), ("bare Flask page", "baseline", b)):
        lines.append(
            f"| {label} | {r['rps']:.0f} | {', '.join(f'{x:.0f}' for x in r['rounds'])} | "
            f"{r['avg_ms']:.2f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{ctx['bytes'][key]} | {r['non2xx']} |"
        )
    verdict = "meets" if ratio >= 1.0 else "misses"
    lines += [
        "",
        f"**Ratio siyu / bare: {ratio:.2f}×** ({verdict} the ≥ 1.0× target; per round: "
        + ", ".join(f"{x:.2f}" for x in ratios) + ").",
        "",
        f"Cross-check, both pages loaded at once for {ctx['wrk_cmd'][3][2:]} (each server gets about "
        "half the CPU, so a busy neighbour weighs on both alike): storefront "
        f"{t['siyu']['rps']:.0f} req/s, bare page {t['baseline']['rps']:.0f} req/s, "
        f"ratio {t['siyu']['rps'] / t['baseline']['rps']:.2f}×.",
        "",
        "RSS per gunicorn worker (VmRSS after the load):",
        "",
        "| server | worker | RSS MiB |",
        "| --- | --- | ---: |",
    ]
    for key, label in (("siyu", "storefront"), ("baseline", "bare Flask")):
        for n, kib in enumerate(ctx["rss"][key], 1):
            lines.append(f"| {label} | {n} | {kib / 1024:.1f} |" if kib else f"| {label} | {n} | ? |")
    return "\n".join(lines)


HEADER = """# Home-page benchmark

The storefront's home page (every installed plugin enabled, SQLite, 30 active products)
against a bare Flask + SQLAlchemy 2 + Jinja page listing the same 30 products, both served
by gunicorn with 2 sync workers on 127.0.0.1 and loaded by wrk in the same run, as an
anonymous shopper (`Accept-Language: zh-CN`, a visitor cookie, no session).
Target: the storefront at ≥ 1.0× the bare page's requests per second.

Reproduce (needs `wrk`: `apt-get install -y wrk`):

    .venv/bin/python bench/run.py                # 3 alternating rounds of 15 s; rewrites the figures below
    .venv/bin/python bench/run.py --short        # 1 round of 5 s, printed only
    make bench

## Latest figures

"""


def write_results(body: str) -> None:
    block = f"{START_MARK}\n{body}\n{END_MARK}"
    if RESULTS.exists():
        text = RESULTS.read_text()
        if START_MARK in text and END_MARK in text:
            head, rest = text.split(START_MARK, 1)
            tail = rest.split(END_MARK, 1)[1]
            RESULTS.write_text(head + block + tail)
            return
        RESULTS.write_text(text.rstrip() + "\n\n" + block + "\n")
        return
    RESULTS.write_text(HEADER + block + "\n")


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per page and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the order")
    parser.add_argument("--short", action="store_true",
                        help="one round of 5 s, results printed only (for iterating)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--keep", action="store_true",
                        help="leave the servers up after the run until Ctrl-C (for profiling)")
    args = parser.parse_args(argv)
    if args.short:
        args.duration, args.rounds, args.no_write = 5, 1, True
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    loadavg = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="siyu-bench-") as tmp:
        tmp_path = Path(tmp)
        try:
            instance = tmp_path / "instance"
            instance.mkdir()
            print("preparing the shop and the baseline database...", flush=True)
            rows = prepare_shop(instance)
            baseline_db = tmp_path / "baseline.db"
            prepare_baseline(baseline_db, rows)

            siyu = Server("siyu", "siyu.storefront:create_app()", shop_env(instance),
                          tmp_path / "siyu.log")
            servers.append(siyu)
            baseline_env = dict(os.environ, BENCH_BASELINE_DB=str(baseline_db))
            baseline = Server("baseline", "baseline_app:create_app()", baseline_env,
                              tmp_path / "baseline.log", extra=("--pythonpath", str(HERE)))
            servers.append(baseline)
            for server in servers:
                server.wait_ready()

            sizes = {}
            for server in servers:
                body, headers = server.fetch()
                tiles = body.count(b'class="tile"')
                if tiles != PRODUCTS:
                    raise RuntimeError(f"{server.name} lists {tiles} products, not {PRODUCTS}")
                if "Set-Cookie" in headers:
                    print(f"note: {server.name} sets a cookie on every request: "
                          f"{headers['Set-Cookie'][:80]}", file=sys.stderr)
                sizes[server.name] = len(body)

            print("warming up...", flush=True)
            for server in servers:
                run_wrk(server.url, 2)

            runs: dict[str, list[dict]] = {"siyu": [], "baseline": []}
            orders = []
            for n in range(args.rounds):
                order = servers if n % 2 == 0 else servers[::-1]
                orders.append(" then ".join(s.name for s in order))
                for server in order:
                    result = run_wrk(server.url, args.duration)
                    runs[server.name].append(result)
                    print(f"round {n + 1} {server.name:<9} {result['rps']:8.1f} req/s  "
                          f"avg {result.get('avg_ms', 0):6.2f} ms  p99 {result.get('p99_ms', 0):6.2f} ms"
                          + (f"  non-2xx {result['non2xx']}" if result["non2xx"] else ""), flush=True)
                print(f"round {n + 1} ratio siyu/bare "
                      f"{runs['siyu'][-1]['rps'] / runs['baseline'][-1]['rps']:.2f}", flush=True)

            together = run_wrk_together({s.name: s.url for s in servers}, args.duration)
            print(f"together  siyu {together['siyu']['rps']:.1f} req/s  "
                  f"baseline {together['baseline']['rps']:.1f} req/s  ratio "
                  f"{together['siyu']['rps'] / together['baseline']['rps']:.2f}", flush=True)

            rss = {s.name: [rss_kib(pid) for pid in s.workers()] for s in servers}
            ctx = {
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "nproc": os.cpu_count(),
                "cpu": cpu_model(),
                "python": platform.python_version(),
                "loadavg": " ".join(loadavg) or "?",
                "versions": versions(),
                "plugins": plugin_names(),
                "rounds": args.rounds,
                "order": "; ".join(orders),
                "wrk_cmd": wrk_args("URL", args.duration)[:-1] + ["URL"],
                "siyu": summarise(runs["siyu"]),
                "baseline": summarise(runs["baseline"]),
                "bytes": sizes,
                "rss": rss,
                "together": together,
            }
            body = render_results(ctx)
            print()
            print(body)
            if not args.no_write:
                write_results(body)
                print(f"\nwritten to {RESULTS.relative_to(HERE.parent)}")
            if ctx["siyu"]["non2xx"] or ctx["baseline"]["non2xx"]:
                print("error: some responses were not 2xx", file=sys.stderr)
                return 1
            if args.keep:
                print(f"\nservers up: siyu {siyu.url}  baseline {baseline.url}  (Ctrl-C to stop)")
                while True:
                    time.sleep(3600)
            return 0
        except KeyboardInterrupt:
            return 130
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    sys.exit(main())
