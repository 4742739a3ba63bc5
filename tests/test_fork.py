"""Leader kernels forked from one zygote (workbench.apps._fork): real kernels, each with its
own environment, pid, session and random state, the release already read, stopped cleanly."""

import asyncio
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from workbench.apps._fork import Forked, can_fork


def test_only_an_ipykernel_of_this_python_is_forked():
    assert can_fork([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not can_fork(["/usr/bin/python3.9", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not can_fork([sys.executable, "-m", "other_kernel", "-f", "k.json"])
    assert not can_fork(["R", "--slave"])


def test_a_forked_kernel_that_ended_is_seen_as_ended():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        forked = Forked(child.pid)
        assert forked.poll() is None
        forked.terminate()
        # not reaped by us (the zygote reaps its own): a zombie counts as ended
        assert forked.wait(timeout=10) == 0
    finally:
        child.kill()
        child.wait()


async def _kernels(release: Path, count: int):
    from jupyter_client.manager import AsyncKernelManager

    from workbench.apps import _fork

    managers, answers = [], []
    for i in range(count):
        km = AsyncKernelManager(kernel_name="python3")
        km.kernel_spec.metadata["kernel_provisioner"] = {"provisioner_name": "workbench-fork"}
        await km.start_kernel(env=dict(os.environ, WORKBENCH_RELEASE=str(release),
                                       WB_MARK=f"kernel-{i}"))
        managers.append(km)
    zygote = next(iter(_fork._ZYGOTES.values())).process
    try:
        for km in managers:
            assert isinstance(km.provisioner.process, Forked)
            client = km.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            code = ("import os, random, workbench.apps._common as c; "
                    "print(os.getpid(), os.getppid(), os.getsid(0), os.environ['WB_MARK'], "
                    "c._KEPT is not None, random.random())")
            reply = await client.execute_interactive(code, timeout=60, output_hook=lambda m: (
                answers.append(m["content"]["text"].split()) if m["msg_type"] == "stream"
                else None))
            assert reply["content"]["status"] == "ok"
            client.stop_channels()
    finally:
        pids = [km.provisioner.process.pid for km in managers if km.provisioner]
        processes = [km.provisioner.process for km in managers if km.provisioner]
        for km in managers:
            await km.shutdown_kernel(now=False)
        zygote.terminate()
        zygote.wait(timeout=20)
        _fork._ZYGOTES.clear()
    return zygote.pid, pids, processes, answers


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_leader_kernels_are_forked_from_one_zygote(university_release, monkeypatch):
    # the zygote reads the release of the server's own environment (workbench serve's)
    monkeypatch.setenv("WORKBENCH_RELEASE", str(university_release.path))
    started = time.monotonic()
    # a loop of its own, in a thread: the browser tests' Playwright may run one in this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        zygote, pids, processes, answers = pool.submit(
            asyncio.run, _kernels(Path(university_release.path), 2)).result()
    assert len(answers) == 2
    for i, (pid, parent, session, mark, kept, _random) in enumerate(answers):
        assert int(pid) == pids[i] and int(parent) == zygote  # forked by the zygote
        assert int(session) == int(pid)  # its own session: signals reach its children
        assert mark == f"kernel-{i}"  # the environment its manager gave it, no other
        assert kept == "True"  # the release was read before the fork
    assert answers[0][5] != answers[1][5]  # each its own random state
    assert all(p.poll() == 0 for p in processes)  # stopped and gone
    assert time.monotonic() - started < 240
