"""``memos jobs`` on a home folder: list, show and cancel the scheduler's persisted jobs."""

from __future__ import annotations

import pytest

from memos.kernel import MemOS


@pytest.fixture
def queued_job(cli_home, embedder) -> dict:
    """A pending archive job queued by the kernel's scheduler in the CLI's home folder."""
    with MemOS(cli_home, embedder=embedder) as mos:
        cube = mos.create_cube(f"jobs-{len(mos.list_cubes())}")
        return mos.scheduler.enqueue("archive", cube.id, {"item_ids": []}).to_dict()


def test_jobs_list_shows_the_queued_job(home_cli, queued_job):
    page = home_cli.json("jobs", "list", "--state", "pending")
    assert queued_job["id"] in [job["id"] for job in page["items"]]
    assert queued_job["id"] in home_cli.ok("jobs", "list").stdout


def test_jobs_show_prints_the_job(home_cli, queued_job):
    job = home_cli.json("jobs", "show", queued_job["id"])
    assert (job["kind"], job["state"]) == ("archive", "pending")


def test_cancel_a_pending_job_cancels_it_at_once(home_cli, queued_job):
    assert home_cli.json("jobs", "cancel", queued_job["id"])["state"] == "cancelled"
    result = home_cli.run("jobs", "cancel", queued_job["id"])
    assert result.exit_code == 0
    finished = home_cli.json("jobs", "list", "--state", "cancelled")
    assert queued_job["id"] in [job["id"] for job in finished["items"]]


def test_unknown_job_exits_1(home_cli):
    result = home_cli.run("jobs", "show", "f" * 32)
    assert result.exit_code == 1 and result.stderr.startswith("Error: no job")


def test_jobs_on_a_server_point_to_home_mode(admin_cli):
    result = admin_cli.run("jobs", "list")
    assert result.exit_code == 1 and "--home" in result.stderr
