"""A blocking distillation stops when its client goes away: Ctrl-C on the CLI, or a dropped
connection, leaves no training running and no adapter behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import memos

REPO = Path(memos.__file__).resolve().parents[1]
DEADLINE_S = 600  # a hang guard only: cancellation is checked at every training step


@pytest.fixture
def cube(alice):
    cube = alice.create_cube(f"distill-disconnect-{time.monotonic_ns()}")
    cube.add_many([{"text": "Zed's favourite colour is teal."}, {"text": "Zed was born in Oslo."}])
    yield cube
    alice.delete_cube(cube.id)


def _wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.2)


def test_dropped_connection_cancels_the_blocking_distillation(live, alice, alice_key, cube):
    body = json.dumps({"steps": 2000, "rank": 2}).encode()
    request = (f"POST /v1/cubes/{cube.id}/adapters HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {alice_key}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection(urlsplit(live.url).netloc.split(":")) as client:
        client.sendall(request)
        _wait_until(lambda: live.mos.adapters.training, "the server trains")
    _wait_until(lambda: not live.mos.adapters.training, "the training stopped")
    assert alice.list_adapters(cube.id) == []


def test_ctrl_c_on_cli_distill_cancels_the_servers_training(live, alice, alice_key, cube):
    command = [sys.executable, "-c", "from memos.cli import main; main()", "--url", live.url,
               "adapters", "distill", cube.id, "--steps", "2000"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "MEMOS_API_KEY": alice_key}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as cli:
        _wait_until(lambda: live.mos.adapters.training, "the server trains")
        cli.send_signal(signal.SIGINT)
        _, stderr = cli.communicate(timeout=60)
    assert cli.returncode == 1 and "interrupted" in stderr and "Traceback" not in stderr
    _wait_until(lambda: not live.mos.adapters.training, "the training stopped")
    assert alice.list_adapters(cube.id) == []
