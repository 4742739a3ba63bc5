"""Many leaders at once: N leaders open their signed links together (issue 9, item 7).

``python benchmarks/leaders.py [--leaders 30] [--pool-size 30] [--browser N]`` starts
``workbench serve`` on 127.0.0.1 (free ports) with a pool of preheated leader kernels, waits
until they have read the release, signs one link for each of N published units of the last
wave (spread over the tree), and then:

1. **N leaders at once** (one thread each, started together): each asks for its link and
   reads the page as it streams in. *Time to first view* is the time until the page has
   brought the unit's first view (the header and the results table, written into the page
   itself, see :mod:`workbench.apps.leader`): what a leader's browser shows before any
   script runs. Each first view is checked: the unit's own title, each of its published
   means, no refusal. Each kernel then draws its figure and comparison, as for a browser.
2. **In a browser** (``--browser`` N, default all): the same number of new links opened at
   once in headless Chromium, one tab each, recording whether every tab shows its first
   view and then the widgets, every answer >= 400, every failed request and every request
   to another host. Its times are printed too, but they measure one shared browser
   rendering N pages on the server's own cores, not the server.
3. **Memory** of the leader kernels once the pages are drawn: RSS (what ``ps`` shows; it
   counts in every kernel the pages it shares with the zygote it was forked from, see
   :mod:`workbench.apps._fork`: the libraries, pandas and pyarrow, and the release's
   tables), USS (what a kernel alone holds, freed when it stops) and PSS (its share of what
   kernels share), in MB; and the zygote's own memory, held once for all kernels.

Targets (issue 9): every page shows its first view, p95 time to first view <= 3 s, no failed
request, a kernel at most 150 MB. ``tests/test_load.py`` runs a smaller version in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
         "--disable-backgrounding-occluded-windows"]
LOCAL = re.compile(r"^(data:|blob:|about:|(https?|wss?)://(127\.0\.0\.1|localhost)[:/])")
FIRST_VIEW = ".wb-first-view td"
WIDGETS = ".widget-html h2"
ZYGOTE = "workbench.apps._fork"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _units(release_path: Path, count: int) -> tuple[str, list[str]]:
    """``count`` published units of the last wave, largest first after the top unit."""
    from workbench.release import read_release

    release = read_release(release_path, lazy=True)
    wave = release.waves[-1]
    ids = [u for u in release.hierarchy(wave).ids if release.published(u, wave)]
    if len(ids) < count:
        raise SystemExit(f"only {len(ids)} published units in wave {wave}; ask for fewer")
    step = len(ids) / count  # spread over the tree: faculties, departments and groups
    return wave, [ids[int(i * step)] for i in range(count)]


class Server:
    """``workbench serve`` in a subprocess, until :meth:`stop`."""

    def __init__(self, dataset: Path, pool_size: int, folder: Path):
        self.port, self.leader_port = _free_port(), _free_port()
        while self.leader_port == self.port:
            self.leader_port = _free_port()
        self.secret = folder / "secret"
        self.log = folder / "serve.log"
        env = dict(os.environ, WORKBENCH_TOKEN="load-test", WORKBENCH_SECRET_FILE=str(self.secret))
        self._log = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "serve", str(dataset), "--port",
             str(self.port), "--leader-port", str(self.leader_port), "--pool-size",
             str(pool_size)], stdout=self._log, stderr=subprocess.STDOUT, env=env)

    @property
    def leader(self) -> str:
        return f"http://127.0.0.1:{self.leader_port}/"

    def wait(self, timeout: float) -> float:
        """Seconds until the leader server's pool of kernels is filled."""
        started = time.monotonic()
        while "Kernel pool of leader.ipynb is filled" not in self.log.read_text():
            if self.process.poll() is not None:
                raise RuntimeError(f"workbench serve stopped; see {self.log}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the kernel pool was not filled in {timeout} s; see "
                                   f"{self.log}")
            time.sleep(0.5)
        return time.monotonic() - started

    def settle(self, count: int, timeout: float) -> float:
        """Seconds until ``count`` leader kernels have read the release and wait for a
        request (their CPU time stays still for two seconds)."""
        started = time.monotonic()
        still, last = 0, None
        while time.monotonic() - started < timeout:
            kernels = self.kernels()
            spent = sum(_cpu(k) for k in kernels) if kernels else None
            if len(kernels) >= count and spent is not None and last is not None and \
                    spent - last < 0.05:
                still += 1
                if still >= 4:
                    return time.monotonic() - started
            else:
                still = 0
            last = spent
            time.sleep(0.5)
        raise RuntimeError(f"the leader kernels were still busy after {timeout} s")

    def release(self) -> Path:
        found = re.search(r"^Release: (.+)$", self.log.read_text(), re.M)
        return Path(found.group(1))

    def voila(self):
        """The leader server's Voila process (psutil)."""
        import psutil

        return next(c for c in psutil.Process(self.process.pid).children()
                    if f"--port={self.leader_port}" in _command(c))

    def kernels(self) -> list:
        """The leader server's kernel processes (psutil): started as ipykernels, or forked
        from the zygote (:mod:`workbench.apps._fork`, whose children they are)."""
        started = [k for k in self.voila().children(recursive=True)
                   if "ipykernel" in _command(k)]
        return started + [k for z in self.zygotes() for k in z.children()]

    def zygotes(self) -> list:
        """The leader server's zygote (none when its kernels are started one by one)."""
        return [z for z in self.voila().children() if ZYGOTE in _command(z)]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def _command(process) -> str:
    """A process's command line; "" for one that has just ended (a culled kernel)."""
    import psutil

    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _cpu(process) -> float:
    """User + system CPU seconds of a process; 0 for one that has ended."""
    import psutil

    try:
        return sum(process.cpu_times()[:2])
    except psutil.Error:
        return 0.0


def memory(processes) -> dict[str, float]:
    """Largest and median RSS, USS and PSS (MB) over the processes."""
    import psutil

    rows = []
    for p in processes:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        rows.append((info.rss / 2**20, info.uss / 2**20, info.pss / 2**20))
    if not rows:
        return {}
    out = {}
    for i, name in enumerate(("rss", "uss", "pss")):
        values = [r[i] for r in rows]
        out[f"{name}_max"] = round(max(values), 1)
        out[f"{name}_median"] = round(statistics.median(values), 1)
    out["kernels"] = len(rows)
    return out


async def _open_all(addresses: list[str], timeout: float) -> list[dict]:
    """Open every address in its own tab, all at once; what each tab saw."""
    import asyncio

    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        contexts = [await browser.new_context(viewport={"width": 1280, "height": 900})
                    for _ in addresses]
        pages = [await c.new_page() for c in contexts]
        results = [{"failed": [], "outside": []} for _ in addresses]
        for page, result in zip(pages, results):
            async def route(r, result=result):
                if LOCAL.match(r.request.url):
                    await r.continue_()
                else:
                    result["outside"].append(r.request.url)
                    await r.abort()
            await page.route("**/*", route)
            page.on("requestfailed", lambda r, result=result: result["failed"].append(
                f"{r.url[:120]} {r.failure}"))
            page.on("response", lambda r, result=result: result["failed"].append(
                f"HTTP {r.status} {r.url[:120]}") if r.status >= 400 else None)

        async def one(page, address, result):
            start = time.perf_counter()
            try:
                await page.goto(address, wait_until="commit", timeout=timeout * 1000)
                await page.locator(FIRST_VIEW).first.wait_for(timeout=timeout * 1000)
                result["first_view"] = time.perf_counter() - start
                timing = await page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return n ? [n.responseStart, n.responseEnd] : [null, null]; }")
                result["page_sent"] = (timing[1] or 0) / 1000  # the last byte of the page
                result["refused"] = await page.locator("div.wb-refusal").count() > 0
                await page.locator(WIDGETS).first.wait_for(timeout=timeout * 1000)
                result["widgets"] = time.perf_counter() - start
                await page.locator("img.wb-figure").first.wait_for(timeout=timeout * 1000)
                result["figure"] = time.perf_counter() - start
            except Exception as exc:  # a page that never shows: counted as a failure
                result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"

        await asyncio.gather(*(one(page, a, r) for page, a, r in zip(pages, addresses,
                                                                      results)))
        for c in contexts:
            await c.close()
        await browser.close()
        return results


def _expected(release_path: Path, wave: str, units: list[str]) -> dict[str, list[str]]:
    """Per unit, what its first view must show: its title and each published mean."""
    from workbench.i18n import number
    from workbench.release import read_release
    from workbench.views import rows

    release = read_release(release_path, lazy=True)
    lang = release.config.language
    hierarchy = release.hierarchy(wave)
    out = {}
    for unit in units:
        table = rows(release, unit, wave, "factor", lang)
        title = ("Resultater for " if lang == "nb" else "Results for ") + hierarchy.name(unit,
                                                                                   lang)
        out[unit] = [title] + [number(m, lang) for m in table.loc[~table["suppressed"], "mean"]]
    return out


def _first_views(addresses: dict[str, str], expected: dict[str, list[str]],
                 timeout: float) -> dict[str, dict]:
    """Every address asked for at the same moment, one thread each; each page read as it
    streams in, until its first view is complete."""
    import threading
    import urllib.request

    results: dict[str, dict] = {unit: {} for unit in addresses}
    gate = threading.Barrier(len(addresses))
    end = '<script type="application/vnd.voila.cell-output+json">'

    def one(unit: str, address: str) -> None:
        result = results[unit]
        try:
            gate.wait()
            start = time.perf_counter()
            with urllib.request.urlopen(address, timeout=timeout) as answer:
                body = b""
                while True:
                    chunk = answer.read1(65536)
                    if not chunk:
                        break
                    body += chunk
                    text = body.decode("utf-8", "replace")
                    if "wb-first-view" in text and end in text.split("wb-first-view", 1)[1]:
                        result["first_view"] = time.perf_counter() - start
                        break
                rest = answer.read()  # the rest of the page, as a browser would
            text = (body + rest).decode("utf-8", "replace")
            if "first_view" not in result:
                result["error"] = "no first view in the page"
                result["page"] = text
            elif "class='wb-refusal'" in text:
                result["error"] = "refused"
            else:
                view = text.split("wb-first-view", 1)[1].split(end, 1)[0]
                missing = [w for w in expected[unit] if w not in view]
                if missing:
                    result["error"] = f"first view lacks {missing[:3]}"
        except Exception as exc:  # counted as a failed request
            result["error"] = f"{type(exc).__name__}: {exc}"[:200]

    threads = [threading.Thread(target=one, args=item) for item in addresses.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _run_apart(coroutine):
    """``asyncio.run`` in a thread of its own: the caller may already run an event loop (a
    test process in which Playwright's synchronous API is open)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run(leaders: int = 30, pool_size: int | None = None, dataset: Path | None = None,
        browser: int | None = None, timeout: float = 120) -> dict:
    """Serve ``dataset`` (default: the university sample) and let ``leaders`` leaders open
    their links at once; then ``browser`` of them (default: all) in Chromium.

    Returns the figures described in the module text.
    """

    from workbench.access import load_secret, sign

    dataset = dataset or ROOT / "data_samples" / "university"
    pool_size = pool_size or leaders
    browser = leaders if browser is None else browser
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="workbench-load-") as tmp:
        server = Server(dataset, pool_size, Path(tmp))
        try:
            ready = server.wait(timeout=60 + 8 * pool_size)
            ready += server.settle(pool_size, timeout=120 + 8 * pool_size)
            idle = memory(server.kernels())
            zygote = memory(server.zygotes())
            wave, units = _units(server.release(), leaders)
            secret = load_secret(server.secret)
            expires = time.time() + 3600
            addresses = {u: f"{server.leader}?t={sign(secret, u, wave, expires)}"
                         for u in units}
            expected = _expected(server.release(), wave, units)
            pool = server.kernels()
            used = {k.pid for k in pool}
            voila = server.voila()
            spent = sum(voila.cpu_times()[:2])
            spent_kernels = sum(_cpu(k) for k in pool)
            timed = _first_views(addresses, expected, timeout)
            server_cpu = sum(voila.cpu_times()[:2]) - spent
            kernels_cpu = sum(_cpu(k) for k in pool) - spent_kernels
            time.sleep(DRAWN_AFTER)  # each kernel draws its figure and comparison
            drawn = memory([k for k in server.kernels() if k.pid in used])
            pages = []
            if browser:
                server.settle(pool_size, timeout=120 + 8 * pool_size)
                again = [f"{server.leader}?t={sign(secret, u, wave, expires)}"
                         for u in units[:browser]]
                pages = _run_apart(_open_all(again, timeout))
        finally:
            server.stop()
    first = [r["first_view"] for r in timed.values() if "first_view" in r]
    failed = {u: r["error"] for u, r in timed.items() if "error" in r}
    shown = [r["first_view"] for r in pages if "first_view" in r]
    page_failures = [r.get("error") or r["failed"][:3] or "refused" for r in pages
                     if "error" in r or r.get("refused") or r["failed"]]
    return {
        "leaders": leaders, "pool_size": pool_size, "load_average_at_start": round(load, 1),
        "pool_ready_s": round(ready, 1),
        "first_view_shown": len([r for r in timed.values()
                                 if "first_view" in r and "error" not in r]),
        "first_view_median_s": round(statistics.median(first), 2) if first else None,
        "first_view_p95_s": round(percentile(first, 95), 2) if first else None,
        "first_view_max_s": round(max(first), 2) if first else None,
        "failed_requests": len(failed), "failures": list(failed.items())[:10],
        "server_cpu_s": round(server_cpu, 2), "kernels_cpu_s": round(kernels_cpu, 2),
        "browser_pages": len(pages), "browser_first_view_shown": len(shown),
        "browser_first_view_p95_s": round(percentile(shown, 95), 2) if shown else None,
        "browser_widgets_shown": len([r for r in pages if "widgets" in r]),
        "browser_failures": page_failures[:10],
        "outside_requests": sum(len(r["outside"]) for r in pages),
        "kernel_memory_idle_mb": idle,
        "zygote_memory_mb": zygote,
        "kernel_memory_drawn_mb": drawn,
    }


#: Seconds the leader kernels get to draw their figures before their memory is measured.
DRAWN_AFTER = 12


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaders", type=int, default=30)
    parser.add_argument("--pool-size", type=int, default=None,
                        help="preheated leader kernels (default: as many as leaders)")
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--browser", type=int, default=None,
                        help="leaders whose pages are also opened in Chromium (default: all)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = run(args.leaders, args.pool_size, args.dataset, args.browser)
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        for key, value in figures.items():
            print(f"{key:<24} {value}")
    ok = (figures["first_view_shown"] == args.leaders and figures["failed_requests"] == 0
          and (figures["first_view_p95_s"] or 99) <= 3.0 and figures["outside_requests"] == 0
          and not figures["browser_failures"]
          and figures["browser_first_view_shown"] == figures["browser_pages"])
    print("targets met" if ok else "targets NOT met (first views, p95 <= 3 s, no failures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
