"""Every example in the README runs as written: the embedded and HTTP Python, curl, the CLI.

A block that cannot run inside a test (it installs packages) is marked in the README with
``<!-- not run in tests: why -->`` on the line before it; every other block is run here.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from memos.engine.model_files import DEFAULT_MODEL_NAME

README = Path(__file__).resolve().parents[1] / "README.md"
REPO = README.parent
NOT_RUN = "<!-- not run in tests:"
HEX_ID = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{16}\b")


@dataclass
class Block:
    language: str
    code: str
    run: bool


def readme_blocks() -> list[Block]:
    blocks, lines = [], README.read_text().splitlines()
    index = 0
    while index < len(lines):
        fence = re.fullmatch(r"```(\w+)", lines[index])
        if fence:
            end = lines.index("```", index + 1)
            marked = index > 0 and lines[index - 1].startswith(NOT_RUN)
            blocks.append(Block(fence.group(1), "\n".join(lines[index + 1:end]), not marked))
            index = end
        index += 1
    return blocks


def blocks_of(language: str) -> list[Block]:
    return [block for block in readme_blocks() if block.language == language and block.run]


@pytest.fixture
def workdir(tmp_path, engine, models_dir) -> Path:
    """A fresh folder whose ``memos-home`` already holds the converted default model."""
    models = tmp_path / "memos-home" / "models"
    models.mkdir(parents=True)
    (models / DEFAULT_MODEL_NAME).symlink_to(models_dir / DEFAULT_MODEL_NAME)
    return tmp_path


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    env["PYTHONPATH"] = str(REPO)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    return {**env, **extra}


def run(command: list[str], cwd: Path, env: dict, timeout: int = 900) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{command[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_every_readme_block_is_run_or_says_why_not():
    languages = {block.language for block in readme_blocks() if block.run}
    assert languages <= {"python", "bash", "console", "json"}
    assert len(blocks_of("python")) == 2 and len(blocks_of("console")) == 1


def test_json_examples_parse_and_name_a_memos_command():
    for block in blocks_of("json"):
        servers = json.loads(block.code)["mcpServers"]
        assert all(server["command"].endswith("/memos") and "mcp" in server["args"]
                   for server in servers.values())


def test_embedded_python_example_runs_as_written(workdir):
    example = blocks_of("python")[0].code
    assert 'MemOS(home="memos-home")' in example
    output = run([sys.executable, "-c", example], workdir, environment())
    assert "Lisbon" in output


@pytest.fixture
def server(workdir):
    """``memos serve`` started as the README says, in ``workdir``, on port 8765 if free."""
    port = 8765 if _port_is_free(8765) else _free_port()
    process = subprocess.Popen([str(Path(sys.executable).parent / "memos"), "serve"],
                               cwd=workdir, env=environment(MEMOS_PORT=str(port)),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_healthy(process, port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_http_examples_run_as_written(workdir, server):
    client_example = blocks_of("python")[1].code.replace("8765", str(server))
    assert "Client(" in client_example
    run([sys.executable, "-c", client_example], workdir, environment())
    key = (workdir / "memos-home" / "admin.key").read_text().strip()
    for block in blocks_of("bash"):
        output = run(["bash", "-euo", "pipefail", "-c", block.code.replace("8765", str(server))],
                     workdir, environment(MEMOS_API_KEY=key))
        assert "Lisbon" in output


def test_cli_session_runs_as_written(workdir):
    ids: dict[str, str] = {}
    for command, expected in transcript(blocks_of("console")[0].code):
        for readme_id, actual in ids.items():
            command = command.replace(readme_id, actual)
        output = run(["bash", "-c", command], workdir, environment())
        ids.update(zip(HEX_ID.findall(expected), HEX_ID.findall(output), strict=False))
        missing = [word for word in _words(expected, ids) if word not in output]
        assert not missing, f"$ {command}\nmissing {missing}\n{output}"


def transcript(text: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in steps]


def _words(expected: str, ids: dict[str, str]) -> list[str]:
    """Words of the expected output that must appear as they are (not ids, sizes or scores)."""
    words = re.findall(r"[A-Za-z][A-Za-z'.,]+", HEX_ID.sub(" ", expected))
    return [w.strip(".,") for w in words if len(w.strip(".,")) > 2 and w not in ids]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"memos serve exited:\n{process.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("memos serve did not become healthy")
