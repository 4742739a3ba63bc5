"""``workbench serve``: two Voila servers, one for analysts (behind a token), one for leaders.

- The **analyst server** (``--port``, default 8866) serves every notebook in ``notebooks/``
  (overview, explorer, ...) behind Voila's token: open the printed URL with ``?token=...``
  once and the browser keeps a cookie. The token is ``$WORKBENCH_TOKEN`` when set, else new
  at every start; it goes to Voila in a config file readable only by the owner, not on the
  command line.
- The **leader server** (``--leader-port``, default the port + 1) serves ``leader.ipynb``
  only, without a token: the signed link is the key (``workbench links --base-url`` with
  this server's address). Its kernels are preheated (``--pool-size`` of them load the survey
  before anyone asks); the page reads the query string after ``wait_for_request()``.

Both listen on 127.0.0.1 unless ``--host`` says otherwise, strip the notebooks' sources, hide
tracebacks and cull kernels idle for 15 minutes. The servers' environment carries the dataset
path (``WORKBENCH_DATASET``) and the secret's path, never a query string or a link.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench._resources import CHECKOUT, resource_dir
from workbench.access import SECRET_ENV, ensure_secret, secret_path
from workbench.errors import UsageError

__all__ = ["TOKEN_ENV", "notebooks_dir", "voila_commands", "serve"]

#: Environment variable with the analyst token (default: a new random token per start).
TOKEN_ENV = "WORKBENCH_TOKEN"
CULL_IDLE = 900
#: The Voila template (``share/voila/templates/workbench``): lab without CDN links.
TEMPLATE = "workbench"
SHARE = Path(__file__).resolve().parent / "share"
# Request data a server might inherit from its own environment must never reach a kernel.
_DROP_ENV = ("QUERY_STRING", "SCRIPT_NAME", "PATH_INFO", "VOILA_REQUEST_URL", "WORKBENCH_LINK",
             "VOILA_PREHEAT", "VOILA_KERNEL_ID", "VOILA_BASE_URL")


def notebooks_dir() -> Path:
    """``notebooks/`` of the checkout the package runs from, or of the installation
    (``<prefix>/share/workbench/notebooks``)."""
    folder = resource_dir("notebooks", "leader.ipynb")
    if folder is None:
        raise UsageError(f"no notebooks folder at {CHECKOUT / 'notebooks'}: run from a "
                         "checkout or reinstall the package")
    return folder


def _common(host: str) -> list[str]:
    return ["--no-browser", f"--Voila.ip={host}", f"--template={TEMPLATE}", "--strip_sources=True",
            "--show_tracebacks=False",
            f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE}",
            "--MappingKernelManager.cull_interval=60"]


def voila_commands(notebooks: Path, port: int, leader_port: int, host: str, pool_size: int,
                   analyst_config: Path, leader_config: Path) -> tuple[list[str], list[str]]:
    """The two Voila command lines (analyst, leader)."""
    voila = shutil.which("voila") or str(Path(sys.executable).parent / "voila")
    analyst = [voila, str(notebooks), f"--port={port}", *_common(host),
               "--Voila.config_file_paths", str(analyst_config)]
    leader = [voila, str(notebooks / "leader.ipynb"), f"--port={leader_port}", *_common(host),
              "--preheat_kernel=True", f"--pool_size={pool_size}",
              "--Voila.config_file_paths", str(leader_config)]
    return analyst, leader


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the server gets SIGTERM when ``workbench serve`` dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(dataset: str | Path, port: int = 8866, host: str = "127.0.0.1",
          leader_port: int | None = None, pool_size: int = 2) -> int:
    """Run both servers until interrupted; return the exit code."""
    dataset = Path(dataset)
    if not (dataset / "survey.yaml").is_file():
        raise UsageError(f"{dataset} is not a dataset folder (no survey.yaml); run "
                         "'workbench samples' or give the path of your dataset")
    if pool_size < 1:
        raise UsageError(f"--pool-size must be at least 1, got {pool_size}")
    leader_port = port + 1 if leader_port is None else leader_port
    if leader_port == port:
        raise UsageError("--leader-port must differ from --port")
    notebooks = notebooks_dir()
    secret_file = secret_path(dataset).resolve()
    ensure_secret(secret_file)  # the leader kernels verify links with it
    token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)

    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV and k != TOKEN_ENV}
    env["WORKBENCH_DATASET"] = str(dataset.resolve())
    env[SECRET_ENV] = str(secret_file)
    env["JUPYTER_PATH"] = os.pathsep.join([str(SHARE)] + [p for p in [env.get("JUPYTER_PATH")]
                                                             if p])
    if host not in ("127.0.0.1", "localhost", "0.0.0.0", "::", ""):
        env["VOILA_APP_IP"] = host  # where a preheated kernel asks for its request

    config = Path(tempfile.mkdtemp(prefix="workbench-serve-"))
    processes: list[subprocess.Popen] = []
    try:
        (config / "analyst").mkdir(mode=0o700)
        (config / "leader").mkdir(mode=0o700)
        _write_private(config / "analyst" / "voila.json",
                       json.dumps({"Voila": {"token": token}}))
        analyst, leader = voila_commands(notebooks, port, leader_port, host, pool_size,
                                         config / "analyst", config / "leader")
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        print(f"Dataset: {dataset.resolve()}")
        print(f"Analysts (overview, explorer): http://{shown}:{port}/voila/render/"
              f"explorer.ipynb?token={token}")
        print(f"  all notebooks: http://{shown}:{port}/?token={token}")
        print(f"Leader pages (signed links only): http://{shown}:{leader_port}/")
        print(f"  make the links: workbench links {dataset} --base-url "
              f"http://{shown}:{leader_port}/", flush=True)
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        for command in (analyst, leader):
            processes.append(subprocess.Popen(command, env=env, preexec_fn=preexec))

        def stop(signum, _frame):
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
        failed = next(p for p in processes if p.poll() is not None)
        return failed.returncode or 1
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(config, ignore_errors=True)
