"""``memos adapters``: LoRA adapters distilled from a cube's notes (parametric memory)."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.context import connection, facade
from memos.cli.errors import CliError
from memos.cli.lookup import as_dict, cube_of_adapter, resolve_cube
from memos.cli.options import CubeRef, Json, Yes, confirm
from memos.cli.output import emit, human_bytes, print_table, say

app = typer.Typer(name="adapters", help="List, distill and delete a cube's LoRA adapters.",
                  no_args_is_help=True, epilog="Example: memos adapters distill notes")

ADAPTER_COLUMNS = [("id", "id"), ("notes", "notes"), ("steps", "steps"),
                   ("final_loss", "final loss"), ("size", "size"), ("stale", "stale"),
                   ("damaged", "damaged"), ("created_at", "created")]


@app.command("list", epilog="Example: memos adapters list notes")
def list_adapters(ctx: typer.Context, cube: CubeRef, json: Json = False) -> None:
    """List a cube's adapters, newest first (stale: a distilled note changed since; damaged:
    its files failed their checksum, so chat skips it)."""
    target = facade(ctx)
    adapters = as_dict(target.list_adapters(resolve_cube(target, cube)["id"]))
    emit(adapters, json, lambda rows: print_table([_row(row) for row in rows],
                                                  ADAPTER_COLUMNS, empty="(no adapters)"))


@app.command(epilog="Example: memos adapters distill notes --steps 60")
def distill(
    ctx: typer.Context,
    cube: CubeRef,
    item_ids: Annotated[list[str] | None, typer.Argument(
        help="Memory ids (default: every searchable memory).", show_default=False)] = None,
    steps: Annotated[int | None, typer.Option(
        min=1, help="Training steps (default: a few epochs over the notes).")] = None,
    json: Json = False,
) -> None:
    """Train a LoRA adapter on a cube's notes (blocking; minutes on a CPU; Ctrl-C cancels it,
    on a server too)."""
    from rich.console import Console
    from rich.progress import Progress

    target = facade(ctx)
    cube_id = resolve_cube(target, cube)["id"]
    options = {"steps": steps} if steps else {}
    with Progress(console=Console(stderr=True), transient=True, disable=json) as bar:
        task = bar.add_task("Distilling", total=None)

        def report(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total,
                       description=f"Distilling (loss {loss:.3f})")

        try:
            if connection(ctx).mode == "home":  # no step progress comes over HTTP
                options["progress"] = report
            adapter = as_dict(target.distill(cube_id, item_ids or None, **options))
        except KeyboardInterrupt:
            connection(ctx).close()  # a server cancels the training when the connection closes
            raise CliError("interrupted: the distillation was cancelled; no adapter was "
                           "saved") from None
    emit(adapter, json, lambda record: say(
        f"Adapter {record['id']}: {_note_count(record)} notes, {record['steps']} steps, "
        f"final loss {record['final_loss']:.4g}, {human_bytes(record['size'])}."))


@app.command(epilog="Example: memos adapters delete 0b7e... --yes")
def delete(
    ctx: typer.Context,
    adapter_id: Annotated[str, typer.Argument(help="Adapter id (see `memos adapters list`).",
                                              show_default=False)],
    cube: Annotated[str | None, typer.Option(
        "--cube", "-c", help="The adapter's cube (saves looking it up on a server).")] = None,
    yes: Yes = False,
    json: Json = False,
) -> None:
    """Unload and delete an adapter."""
    confirm(f"delete adapter {adapter_id}", yes)
    target = facade(ctx)
    cube_id = resolve_cube(target, cube)["id"] if cube else cube_of_adapter(target, adapter_id)
    target.delete_adapter(cube_id, adapter_id)
    emit({"deleted": adapter_id}, json, lambda _: say(f"Deleted adapter {adapter_id}."))


def _row(adapter: dict) -> dict:
    return {**adapter, "notes": _note_count(adapter), "size": human_bytes(adapter["size"]),
            "damaged": "yes" if adapter.get("damaged") else "no"}


def _note_count(adapter: dict) -> int:
    items = adapter["items"]  # the kernel reports a count; a mapping of item versions also works
    return items if isinstance(items, int) else len(items)
