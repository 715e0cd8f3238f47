"""``memos jobs``: the scheduler's persisted jobs (merge, archive, expire, promote, distill)."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.context import facade
from memos.cli.lookup import as_dict, cube_names, resolve_cube
from memos.cli.options import Json
from memos.cli.output import emit, print_record, print_table, say

app = typer.Typer(name="jobs", help="List, inspect and cancel scheduler jobs.",
                  no_args_is_help=True, epilog="Example: memos jobs list --state running")

JobId = Annotated[str, typer.Argument(help="Job id (see `memos jobs list`).",
                                      show_default=False)]
JOB_COLUMNS = [("id", "id"), ("kind", "kind"), ("state", "state"), ("progress", "progress"),
               ("attempts", "attempts"), ("cube", "cube"), ("updated_at", "updated"),
               ("error", "error")]
JOB_FIELDS = [("id", "id"), ("kind", "kind"), ("state", "state"), ("cube_id", "cube"),
              ("progress", "progress"), ("attempts", "attempts"),
              ("max_attempts", "max attempts"), ("payload", "payload"), ("result", "result"),
              ("error", "error"), ("dedupe_key", "dedupe key"), ("created_at", "created"),
              ("updated_at", "updated"), ("run_after", "run after")]


@app.command("list", epilog="Example: memos jobs list --state pending -c notes")
def list_jobs(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(
        help="pending, running, cancelling, succeeded, failed or cancelled.")] = None,
    cube: Annotated[str | None, typer.Option("--cube", "-c", help="Cube id or name.")] = None,
    kind: Annotated[str | None, typer.Option(help="Job kind, e.g. merge or archive.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    json: Json = False,
) -> None:
    """List jobs, newest first."""
    target = facade(ctx)
    cube_id = resolve_cube(target, cube)["id"] if cube else None
    jobs, total = target.list_jobs(cube_id, state, kind, limit, offset)
    page = {"items": as_dict(jobs), "total": total}
    emit(page, json, lambda data: print_table(
        [_row(job, cube_names(target)) for job in data["items"]], JOB_COLUMNS,
        title=f"{len(data['items'])} of {data['total']}"))


@app.command(epilog="Example: memos jobs show 7d0e...")
def show(ctx: typer.Context, job_id: JobId, json: Json = False) -> None:
    """Show one job: payload, progress, result or error."""
    emit(as_dict(facade(ctx).get_job(job_id)), json,
         lambda record: print_record(_row(record), JOB_FIELDS))


@app.command(epilog="Example: memos jobs cancel 7d0e...")
def cancel(ctx: typer.Context, job_id: JobId, json: Json = False) -> None:
    """Cancel a job: a pending one at once, a running one at its next check."""
    job = as_dict(facade(ctx).cancel_job(job_id))
    emit(job, json, lambda record: say(f"Job {record['id']} is {record['state']}."))


def _row(job: dict, names: dict[str, str] | None = None) -> dict:
    cube = (names or {}).get(job["cube_id"], job["cube_id"])
    return {**job, "cube": cube, "progress": f"{100 * float(job.get('progress') or 0):.0f}%"}
