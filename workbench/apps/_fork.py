"""Leader kernels forked from one process that has already read the release.

Every leader kernel would otherwise start Python, import IPython, pandas, pyarrow and
matplotlib and read the release's tables: about 4 CPU seconds and 140 MB of its own memory,
once per kernel. Here one *zygote* process does that once, and each kernel is a fork of it:
it shares those pages with the zygote (copy on write) and holds on its own only what it
changes. A kernel is then an ordinary ipykernel, started from the kernelspec's command line,
connection file and environment, as its manager asked.

- :class:`ForkProvisioner` is the leader server's kernel provisioner (``workbench-fork``,
  registered in ``pyproject.toml``; :mod:`workbench.apps.serving` names it on the leader
  server's command line only). It asks the zygote for a kernel instead of starting a
  process. What it cannot fork (another kernel than ``python -m ipykernel_launcher`` of this
  Python, a zygote that did not start) it starts as the usual local provisioner does.
- The zygote (``python -m workbench.apps._fork FD``) runs
  :func:`workbench.apps.leader.preload` on ``$WORKBENCH_RELEASE``, freezes its objects for
  the garbage collector (so that no collection writes to the shared pages), then forks one
  kernel per request read from the socket ``FD``. It starts with the server's own
  environment, which holds nothing of a request; each kernel gets exactly the environment
  its manager gave it, its own session (signals to the kernel reach its children) and fresh
  random state. The zygote dies with the server, and a kernel whose zygote is gone is
  stopped by its manager as any other.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

__all__ = ["ForkProvisioner", "Forked", "can_fork", "main"]

#: Seconds the zygote may take to read the release before kernels are started the usual way.
READY_TIMEOUT = 120


def can_fork(cmd: list[str]) -> bool:
    """True for the command line of an ipykernel of this very Python."""
    return (len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]
            and Path(cmd[0]).resolve() == Path(sys.executable).resolve()
            and sys.platform.startswith("linux"))


class Forked:
    """A forked kernel, as :class:`subprocess.Popen` is for the local provisioner: its
    parent is the zygote, which reaps it, so the kernel has ended when its pid is gone."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
                with open(f"/proc/{self.pid}/stat", "rb") as stat:
                    if stat.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                        self.returncode = 0  # ended, not yet reaped by the zygote
            except (ProcessLookupError, FileNotFoundError):
                self.returncode = 0  # the exit status went to the zygote
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _Zygote:
    """The server's zygote: started at the first kernel, asked for one kernel at a time."""

    def __init__(self):
        self.ready: asyncio.Future | None = None
        self.lock = asyncio.Lock()
        self.process: subprocess.Popen | None = None
        self.reader = self.writer = None

    async def start(self) -> bool:
        if self.ready is None:
            self.ready = asyncio.ensure_future(self._start())
        try:
            return await asyncio.shield(self.ready)
        except Exception:
            return False

    async def _start(self) -> bool:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench.apps._fork", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=dict(os.environ))
        theirs.close()
        self.reader, self.writer = await asyncio.open_unix_connection(sock=ours)
        line = await asyncio.wait_for(self.reader.readline(), READY_TIMEOUT)
        answer = json.loads(line or b"{}")
        if not answer.get("ready"):
            print(f"workbench: leader kernels start without the zygote: "
                  f"{answer.get('error', 'it stopped')}", file=sys.stderr, flush=True)
            return False
        return True

    async def fork(self, cmd: list[str], env: dict[str, str], cwd: str) -> int | None:
        if not await self.start():
            return None
        async with self.lock:
            if self.process.poll() is not None:
                return None
            self.writer.write(json.dumps({"argv": cmd, "env": env, "cwd": cwd}).encode()
                              + b"\n")
            await self.writer.drain()
            answer = json.loads(await self.reader.readline() or b"{}")
        return answer.get("pid")


_ZYGOTES: dict[int, _Zygote] = {}


def _zygote() -> _Zygote:
    """The zygote of this event loop (a server runs one)."""
    loop = id(asyncio.get_running_loop())
    if loop not in _ZYGOTES:
        _ZYGOTES[loop] = _Zygote()
    return _ZYGOTES[loop]


class ForkProvisioner(LocalProvisioner):
    """The local provisioner, with kernels forked from the zygote (see the module text)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        pid = None
        if can_fork(cmd):
            env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
            pid = await _zygote().fork(cmd, env, str(kwargs.get("cwd") or os.getcwd()))
        if pid is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = Forked(pid)
        self.pid = self.pgid = pid  # the kernel leads its own session
        self.cwd = kwargs.get("cwd", Path.cwd())
        return self.connection_info


# ---------------------------------------------------------------------------------------------
# the zygote process


def _become_kernel(request: dict, channel: socket.socket) -> None:  # pragma: no cover - child
    """In the forked child: become the kernel of ``request`` and never return."""
    code = 1
    try:
        os.close(channel.detach())  # the zygote's end stays the zygote's
        os.setsid()
        for each in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP):
            signal.signal(each, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        quiet = os.open(os.devnull, os.O_RDONLY)
        os.dup2(quiet, 0)
        os.close(quiet)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        import random

        random.seed()
        import runpy

        # the kernel stops when its parent, the zygote, is gone (the zygote stops with the
        # server); IPKernelApp took its default from the zygote's environment, without one
        sys.argv = ["ipykernel_launcher", *request["argv"][3:],
                    f"--IPKernelApp.parent_handle={os.getppid()}"]
        runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - runs as the zygote
    import gc

    from workbench.apps.serving import _die_with_parent

    argv = sys.argv[1:] if argv is None else argv
    channel = socket.socket(fileno=int(argv[0]))
    _die_with_parent()

    def say(answer: dict) -> None:
        channel.sendall(json.dumps(answer).encode() + b"\n")

    try:
        from workbench.apps._common import RELEASE_ENV
        from workbench.apps.leader import preload

        preload(os.environ[RELEASE_ENV])
    except Exception as exc:
        say({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped as they end
    say({"ready": True})
    for line in channel.makefile("rb"):
        try:
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _become_kernel(request, channel)
            say({"pid": pid})
        except Exception as exc:
            say({"error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
