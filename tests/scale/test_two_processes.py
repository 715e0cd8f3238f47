"""Two real processes on one home (SQLite) or one PostgreSQL database see each other's writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from memos.kernel import MemOS
from memos.settings import Settings

PEER = Path(__file__).with_name("peer.py")
ROOT = Path(__file__).resolve().parents[2]


class Peer:
    """The other process, driven one JSON command at a time."""

    def __init__(self, home: Path, database_url: str | None) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        self.process = subprocess.Popen(
            [sys.executable, str(PEER), str(home), database_url or ""], env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.read() == {"ready": True}

    def read(self) -> dict:
        line = self.process.stdout.readline()
        assert line, "the peer process ended"
        return json.loads(line)

    def __call__(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        self.process.stdin.close()
        assert self.process.wait(timeout=60) == 0


@pytest.fixture
def processes(database_url, embedder, tmp_path):
    """This process's MemOS and a peer process on the same home and database."""
    home = tmp_path / "home"
    mos = MemOS(settings=Settings(home=home, database_url=database_url), embedder=embedder)
    peer = Peer(home, database_url)
    yield mos, peer
    peer.close()
    mos.close()


def test_two_processes_see_each_others_adds_and_deletes(processes):
    mos, peer = processes
    cube = mos.create_cube("pets")
    cube.add("The dog sleeps in the garden.")
    assert peer(op="search", cube=cube.id, query="dog")["texts"] == [
        "The dog sleeps in the garden."]

    pixel = peer(op="add", cube=cube.id, text="My cat is called Pixel.")["id"]
    assert pixel in [hit.item.id for hit in cube.search("What is my cat called?")]

    peer(op="delete", cube=cube.id, item=pixel)
    assert pixel not in [hit.item.id for hit in cube.search("What is my cat called?")]
    mine = cube.add("Nemo is an orange fish.").id
    cube.delete(mine)
    assert mine not in peer(op="search", cube=cube.id, query="orange fish")["ids"]
