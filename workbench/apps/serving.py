"""``workbench serve``: two Voila servers, one for analysts (behind a token), one for leaders.

Both read the release only. ``workbench serve DATASET|RELEASE`` first builds the dataset's
release, or reuses it when it is fresh (:func:`workbench.release.open_release`), and hands the
kernels the release folder (``$WORKBENCH_RELEASE``); no kernel ever gets the dataset's path,
so none can load a respondent row.

- The **analyst server** (``--port``, default 8866) serves every notebook in ``notebooks/``
  (overview, explorer, ...) behind Voila's token: open the printed URL with ``?token=...``
  once and the browser keeps a cookie. The token is ``$WORKBENCH_TOKEN`` when set, else new
  at every start; it goes to Voila in a config file readable only by the owner, not on the
  command line. The handouts page writes into ``DATASET/.workbench/handouts`` (for a release
  folder: the ``.workbench`` folder beside it), and the server serves that folder (only) at
  ``/workbench/handouts/``, behind the same token (:mod:`workbench.apps._voila`).
- The **leader server** (``--leader-port``, default the port + 1) serves ``leader.ipynb``
  only, without a token: the signed link is the key (``workbench links --base-url`` with
  this server's address). Its kernels are preheated (``--pool-size`` of them have read the
  release before anyone asks) and forked from one process that read it once
  (:mod:`workbench.apps._fork`); the page reads the query string after
  ``wait_for_request()``.

Both listen on 127.0.0.1 unless ``--host`` says otherwise, strip the notebooks' sources, hide
tracebacks and cull kernels idle for 15 minutes. The servers' environment carries the release
folder (``WORKBENCH_RELEASE``), the secret's path and the workshop store's URL
(``WORKBENCH_DB``: the user's, else the dataset's SQLite store; none for a bare release
folder), never a query string, a link or the dataset's path.
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
from workbench.access import SECRET_ENV, ensure_secret, secret_path, workbench_folder
from workbench.apps._common import DATASET_ENV, RELEASE_ENV
from workbench.errors import UsageError

__all__ = ["TOKEN_ENV", "HANDOUTS_ENV", "HANDOUTS_URL_ENV", "notebooks_dir", "voila_commands",
           "release_folder", "kernel_env", "workshop_store", "serve"]

#: Environment variable with the analyst token (default: a new random token per start).
TOKEN_ENV = "WORKBENCH_TOKEN"
#: The folder the handouts page writes into, and the address it is served at.
HANDOUTS_ENV = "WORKBENCH_HANDOUTS"
HANDOUTS_URL_ENV = "WORKBENCH_HANDOUTS_URL"
#: The workshop store's URL for the kernels (the same name as ``workbench.workshop.DB_ENV``;
#: not imported from there, so that starting a server loads no database library early).
DB_ENV = "WORKBENCH_DB"
CULL_IDLE = 900
#: Seconds Voila waits for a cell's last outputs after the kernel has answered (nbclient's
#: default, 4, drops the page's widgets when many pages are made at once on a busy machine).
IOPUB_TIMEOUT = 60
#: Seconds before the leader server starts a new kernel for one that was used: when many
#: leaders come at once, their pages go out first, then the pool fills again.
FILL_DELAY = 5
#: The leader kernels' provisioner: forked from one process that has read the release
#: (:mod:`workbench.apps._fork`).
PROVISIONER = "workbench-fork"
#: The Voila template (``share/voila/templates/workbench``): lab without CDN links.
TEMPLATE = "workbench"
SHARE = Path(__file__).resolve().parent / "share"
# Request data a server might inherit from its own environment must never reach a kernel.
_DROP_ENV = ("QUERY_STRING", "SCRIPT_NAME", "PATH_INFO", "VOILA_REQUEST_URL", "WORKBENCH_LINK",
             "VOILA_PREHEAT", "VOILA_KERNEL_ID", "VOILA_BASE_URL", DATASET_ENV, RELEASE_ENV,
             "WORKBENCH_HANDOUTS", "WORKBENCH_HANDOUTS_URL")
# A kernel reads a few small Parquet tables once: Arrow's own allocator would keep its pools,
# glibc with two arenas gives freed memory back (what a leader kernel holds, see the README).
_KERNEL_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


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
            "--show_tracebacks=False", f"--VoilaExecutor.iopub_timeout={IOPUB_TIMEOUT}",
            f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE}",
            "--MappingKernelManager.cull_interval=60"]


def _provisioner() -> list[str]:
    """The leader server's option naming :data:`PROVISIONER`, when it is installed (an
    installation registers it; without it kernels start one by one, as Jupyter's own)."""
    from importlib.metadata import entry_points

    if not entry_points(group="jupyter_client.kernel_provisioners", name=PROVISIONER):
        return []
    return [f"--KernelProvisionerFactory.default_provisioner_name={PROVISIONER}"]


def voila_commands(notebooks: Path, port: int, leader_port: int, host: str, pool_size: int,
                   analyst_config: Path, leader_config: Path,
                   handouts: Path | None = None) -> tuple[list[str], list[str]]:
    """The two Voila command lines (analyst, leader); the analyst server also serves the
    ``handouts`` folder (see :mod:`workbench.apps._voila`)."""
    voila = [sys.executable, "-m", "workbench.apps._voila"]
    analyst = [*voila, str(notebooks), f"--port={port}", *_common(host),
               "--Voila.config_file_paths", str(analyst_config)]
    if handouts is not None:
        analyst.append(f"--WorkbenchVoila.handouts_dir={handouts}")
    leader = [*voila, str(notebooks / "leader.ipynb"), f"--port={leader_port}", *_common(host),
              "--preheat_kernel=True", f"--pool_size={pool_size}",
              *_provisioner(),
              f"--VoilaKernelManager.fill_delay={FILL_DELAY}",
              "--Voila.config_file_paths", str(leader_config)]
    return analyst, leader


def release_folder(path: str | Path) -> tuple[Path, Path]:
    """(release folder, secret file) for ``workbench serve DATASET|RELEASE``.

    The secret is ``$WORKBENCH_SECRET_FILE`` or the one in the dataset's (or the release's)
    ``.workbench`` folder (:func:`workbench.access.secret_path`).

    A dataset's release is built, or reused when fresh, in ``DATASET/.workbench/release``; a
    release folder is used as it is. A dataset folder the workbench cannot write to gets its
    release in a private temporary folder.
    """
    from workbench.release import is_release, open_release, write_release

    path = Path(path)
    if is_release(path):
        return path.resolve(), secret_path(path).resolve()
    if not (path / "survey.yaml").is_file():
        raise UsageError(f"{path} is neither a dataset folder (with survey.yaml) nor a release "
                         "folder (with manifest.json); run 'workbench samples' or give the "
                         "path of your dataset")
    release = open_release(path)
    folder = release.path
    if folder is None:  # a read-only dataset folder: the release was built in memory
        folder = write_release(release, Path(tempfile.mkdtemp(prefix="workbench-release-"))
                               / "release")
    return Path(folder).resolve(), secret_path(path).resolve()


def kernel_env(release: Path, secret: Path, handouts: Path | None = None) -> dict[str, str]:
    """The servers' (and so the kernels') environment: the release folder and the secret's
    path; nothing a request or an earlier process put there."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV and k != TOKEN_ENV}
    for key, value in _KERNEL_ENV.items():
        env.setdefault(key, value)
    env[RELEASE_ENV] = str(release)
    env[SECRET_ENV] = str(secret)
    if handouts is not None:
        env[HANDOUTS_ENV] = str(handouts)
        env[HANDOUTS_URL_ENV] = "/workbench/handouts/"
    env["JUPYTER_PATH"] = os.pathsep.join([str(SHARE)] + [p for p in [env.get("JUPYTER_PATH")]
                                                             if p])
    return env


def workshop_store(path: str | Path) -> str | None:
    """The workshop store's URL for the kernels of ``workbench serve PATH``: ``$WORKBENCH_DB``
    when set, else a dataset's ``DATASET/.workbench/workshop.sqlite`` (created and migrated
    now, so that kernels never race to make it); None for a release folder alone, or when
    the store cannot be opened (the leader pages then say the workshop cannot be recorded).
    """
    from workbench.errors import WorkbenchError
    from workbench.workshop import open_store, store_url

    path = Path(path)
    if not os.environ.get(DB_ENV, "").strip() and not (path / "survey.yaml").is_file():
        return None
    url = store_url(path)
    try:
        open_store(path, url=url).close()
    except WorkbenchError as exc:
        print(f"note: the workshop store cannot be opened ({exc}); leader pages will not "
              "record workshops", file=sys.stderr)
        return None
    return url


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: this process gets SIGTERM when its parent dies, even by SIGKILL (a server when
    ``workbench serve`` dies, the leader kernels' zygote when its server does)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(path: str | Path, port: int = 8866, host: str = "127.0.0.1",
          leader_port: int | None = None, pool_size: int = 2) -> int:
    """Build or reuse the release of ``path`` (a dataset or a release folder), then run both
    servers on it until interrupted; return the exit code."""
    if pool_size < 1:
        raise UsageError(f"--pool-size must be at least 1, got {pool_size}")
    leader_port = port + 1 if leader_port is None else leader_port
    if leader_port == port:
        raise UsageError("--leader-port must differ from --port")
    notebooks = notebooks_dir()
    release, secret_file = release_folder(path)
    ensure_secret(secret_file)  # the leader kernels verify links with it
    handouts = (workbench_folder(path) / "handouts").resolve()
    token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    env = kernel_env(release, secret_file, handouts)
    leader_env = kernel_env(release, secret_file)
    store = workshop_store(path)
    if store:
        for each in (env, leader_env):
            each[DB_ENV] = store
    if host not in ("127.0.0.1", "localhost", "0.0.0.0", "::", ""):
        for each in (env, leader_env):
            each["VOILA_APP_IP"] = host  # where a preheated kernel asks for its request

    config = Path(tempfile.mkdtemp(prefix="workbench-serve-"))
    processes: list[subprocess.Popen] = []
    try:
        (config / "analyst").mkdir(mode=0o700)
        (config / "leader").mkdir(mode=0o700)
        _write_private(config / "analyst" / "voila.json",
                       json.dumps({"Voila": {"token": token}}))
        analyst, leader = voila_commands(notebooks, port, leader_port, host, pool_size,
                                         config / "analyst", config / "leader", handouts)
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        print(f"Release: {release}")
        print(f"Handouts written on the handouts page: {handouts}")
        print(f"Analysts (overview, explorer): http://{shown}:{port}/voila/render/"
              f"explorer.ipynb?token={token}")
        print(f"  all notebooks: http://{shown}:{port}/?token={token}")
        print(f"Leader pages (signed links only): http://{shown}:{leader_port}/")
        print(f"  make the links: workbench links {path} --base-url "
              f"http://{shown}:{leader_port}/", flush=True)
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        for command, environment in ((analyst, env), (leader, leader_env)):
            processes.append(subprocess.Popen(command, env=environment, preexec_fn=preexec))

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
