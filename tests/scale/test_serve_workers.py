"""``memos serve --workers 2``: two server processes on one port and one home.

Each worker loads the model and the embedder (20-60 s on a loaded 2-core machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_workers(models_dir, tmp_path):
    """A home served by two worker processes; yields (base url, the server process)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(models_dir)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
           "MEMOS_DEVICE": "cpu", "MEMOS_WORKERS": "0"}
    server = subprocess.Popen(
        [sys.executable, "-c", "from memos.cli import main; main()", "--home", str(home),
         "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    yield base, server, home
    server.terminate()
    server.wait(timeout=60)


def wait_for(base: str, server: subprocess.Popen, deadline_s: float = 180) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read()
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the workers never answered")


def test_two_worker_processes_share_notes_and_announce_the_admin_key_once(two_workers):
    base, server, home = two_workers
    wait_for(base, server)
    key = (home / "admin.key").read_text().strip()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        cube = client.post("/v1/cubes", json={"name": "pets"}).json()
        note = client.post(f"/v1/cubes/{cube['id']}/memories",
                           json={"text": "My cat is called Pixel."}).json()
        for _ in range(6):  # new connections: both workers answer some of these searches
            with httpx.Client(base_url=base, headers=headers, timeout=60) as fresh:
                hits = fresh.post(f"/v1/cubes/{cube['id']}/search",
                                  json={"query": "What is my cat called?"}).json()
            assert note["id"] in [hit["item"]["id"] for hit in hits["data"]]
    server.terminate()
    _, stderr = server.communicate(timeout=60)
    assert stderr.count("created the admin API key") == 1
