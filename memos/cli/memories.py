"""``memos memories``: list, show, search, add, edit and retire the notes of a cube."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from memos.cli.context import facade
from memos.cli.errors import CliError
from memos.cli.lookup import as_dict, cube_names, resolve_cube
from memos.cli.options import CubeRef, ItemId, Json, Yes, confirm, parse_pairs
from memos.cli.output import emit, print_record, print_table, say

app = typer.Typer(name="memories", help="Add, find, edit and retire the memories of a cube.",
                  no_args_is_help=True,
                  epilog="Example: memos memories add notes 'Alice moved to Lisbon.'")

ItemIds = Annotated[list[str], typer.Argument(help="Memory ids.", show_default=False)]
States = Annotated[list[str] | None, typer.Option(
    "--state", help="Only these states (repeatable): created, activated, merged, archived, "
                    "frozen, deleted.")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="Only memories with this tag "
                                                              "(repeatable).")]
Meta = Annotated[list[str] | None, typer.Option("--meta", help="Metadata key=value "
                                                               "(repeatable).")]

ITEM_COLUMNS = [("id", "id"), ("state", "state"), ("text", "text"), ("tags", "tags")]
ITEM_FIELDS = [("id", "id"), ("cube_id", "cube"), ("state", "state"), ("version", "version"),
               ("text", "text"), ("keywords", "keywords"), ("tags", "tags"),
               ("context", "context"), ("metadata", "metadata"), ("event_time", "event time"),
               ("merged_into", "merged into"), ("superseded_by", "superseded by"),
               ("valid_to", "valid to"), ("created_at", "created"),
               ("updated_at", "updated"), ("last_accessed_at", "last accessed"),
               ("access_count", "accesses"), ("retrieval_count", "retrievals")]
HIT_COLUMNS = [("score", "score"), ("id", "id"), ("cube", "cube"), ("state", "state"),
               ("text", "text")]
HISTORY_COLUMNS = [("version", "version"), ("event", "event"), ("at", "at"),
                   ("actor", "actor"), ("changes", "changes")]
TEXT_PREVIEW = 120
FORGET_COLUMNS = [("status", "status"), ("kind", "kind"), ("where", "where"),
                  ("detail", "detail")]
FORGET_CHECK_REMAINS = 3  # exit code of a forget check that found copies or the fact stated


@app.command("list", epilog="Example: memos memories list notes --state archived --limit 20")
def list_memories(
    ctx: typer.Context,
    cube: CubeRef,
    state: States = None,
    tag: Tags = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    json: Json = False,
) -> None:
    """List a cube's memories, newest first."""
    target = facade(ctx)
    items, total = target.get_cube(resolve_cube(target, cube)["id"]).list(state, tag or [],
                                                                          limit, offset)
    page = {"items": as_dict(items), "total": total}
    emit(page, json, lambda data: _print_page(data, offset))


@app.command(epilog="Example: memos memories show notes 3f2a9c...")
def show(ctx: typer.Context, cube: CubeRef, item_id: ItemId, json: Json = False) -> None:
    """Show one memory with all its attributes."""
    target = facade(ctx)
    item = as_dict(target.get_cube(resolve_cube(target, cube)["id"]).get(item_id))
    emit(item, json, lambda record: print_record(record, ITEM_FIELDS))


@app.command(epilog="Example: memos memories search 'Where does Alice live?' -c notes -k 5")
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.", show_default=False)],
    cube: Annotated[list[str] | None, typer.Option(
        "--cube", "-c", help="Cube id or name (repeatable; default: every readable cube).")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=200, help="How many hits.")] = 10,
    state: States = None,
    tag: Tags = None,
    current_only: Annotated[bool, typer.Option(
        "--current-only", help="Leave out memories a newer one superseded.")] = False,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", help="Only memories valid at this moment (ISO date or datetime, UTC).")
    ] = None,
    json: Json = False,
) -> None:
    """Hybrid search (dense + lexical + graph) over one or more cubes, best first."""
    target = facade(ctx)
    cube_ids = [resolve_cube(target, ref)["id"] for ref in cube or []]
    filters = {"tags": tag or []} | ({"states": state} if state else {})
    filters |= {"current_only": True} if current_only else {}
    filters |= {"as_of": as_of.replace(tzinfo=as_of.tzinfo or UTC)} if as_of else {}
    hits = as_dict(target.search(query, cube_ids or None, k, **filters))
    emit(hits, json, lambda rows: _print_hits(rows, cube_names(target)))


@app.command(epilog="Example: memos memories add notes 'Alice moved to Lisbon in May 2023.' "
                    "--meta speaker=Alice")
def add(
    ctx: typer.Context,
    cube: CubeRef,
    texts: Annotated[list[str], typer.Argument(
        help="Texts of the memories; '-' reads one memory per line from stdin.",
        show_default=False)],
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable).")] = None,
    meta: Meta = None,
    context: Annotated[str | None, typer.Option(help="Context sentence.")] = None,
    force: Annotated[bool, typer.Option(help="Store even near-duplicates.")] = False,
    supersedes: Annotated[str | None, typer.Option(
        help="Id of an older memory the new one replaces (it stays in history).")] = None,
    json: Json = False,
) -> None:
    """Add memories to a cube (one batched embedding; near-duplicates collapse)."""
    target = facade(ctx)
    cube_id = resolve_cube(target, cube)["id"]
    extra = {"metadata": parse_pairs(meta), "force": force}
    extra |= {"supersedes": supersedes} if supersedes else {}
    extra |= {"tags": tag} if tag else {}
    extra |= {"context": context} if context else {}
    entries = [{"text": text, **extra} for text in _read_texts(texts)]
    items = as_dict(target.get_cube(cube_id).add_many(entries))
    emit(items, json, lambda rows: print_table(rows, ITEM_COLUMNS, title=f"Added {len(rows)}"))


@app.command(epilog="Example: memos memories edit notes 3f2a9c... --text 'Alice lives in Porto.'")
def edit(
    ctx: typer.Context,
    cube: CubeRef,
    item_id: ItemId,
    text: Annotated[str | None, typer.Option(help="New text (re-embedded).")] = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", help="Replace the tags with these (repeatable).")] = None,
    context: Annotated[str | None, typer.Option(help="New context sentence.")] = None,
    meta: Annotated[list[str] | None, typer.Option(
        "--meta", help="Set a metadata key=value, keeping the others (repeatable).")] = None,
    json: Json = False,
) -> None:
    """Change a memory; the old version stays in its history."""
    target = facade(ctx)
    memories = target.get_cube(resolve_cube(target, cube)["id"])
    fields = {"text": text, "tags": tag, "context": context}
    if meta:
        fields["metadata"] = memories.get(item_id).metadata | parse_pairs(meta)
    fields = {name: value for name, value in fields.items() if value is not None}
    if not fields:
        raise typer.BadParameter("give at least one of --text, --tag, --context, --meta")
    item = as_dict(memories.update(item_id, **fields))
    emit(item, json, lambda record: say(f"Updated {record['id']} to version "
                                        f"{record['version']}."))


@app.command(epilog="Example: memos memories archive notes 3f2a9c...")
def archive(ctx: typer.Context, cube: CubeRef, item_ids: ItemIds, json: Json = False) -> None:
    """Archive memories: kept, but left out of default search."""
    _move(ctx, cube, item_ids, "archive", json)


@app.command(epilog="Example: memos memories freeze notes 3f2a9c...")
def freeze(ctx: typer.Context, cube: CubeRef, item_ids: ItemIds, json: Json = False) -> None:
    """Freeze memories: pinned, never archived, merged or evicted."""
    _move(ctx, cube, item_ids, "freeze", json)


@app.command(epilog="Example: memos memories delete notes 3f2a9c... --yes")
def delete(ctx: typer.Context, cube: CubeRef, item_ids: ItemIds, yes: Yes = False,
           json: Json = False) -> None:
    """Soft-delete memories (history kept; they can never come back)."""
    confirm(f"delete {len(item_ids)} memor{'y' if len(item_ids) == 1 else 'ies'}", yes)
    _move(ctx, cube, item_ids, "delete", json)


@app.command(epilog="Example: memos memories purge notes 3f2a9c... --yes")
def purge(ctx: typer.Context, cube: CubeRef, item_ids: ItemIds, yes: Yes = False,
          json: Json = False) -> None:
    """Remove memories and their history for good."""
    target = facade(ctx)
    memories = target.get_cube(resolve_cube(target, cube)["id"])
    confirm(f"purge {len(item_ids)} memor{'y' if len(item_ids) == 1 else 'ies'} and their "
            "history for good", yes)
    for item_id in item_ids:
        memories.purge(item_id)
    emit({"purged": item_ids}, json, lambda _: say(f"Purged {len(item_ids)}."))


@app.command(epilog="Example: memos memories history notes 3f2a9c...")
def history(ctx: typer.Context, cube: CubeRef, item_id: ItemId, json: Json = False) -> None:
    """Show every recorded change of a memory, oldest first."""
    target = facade(ctx)
    entries = as_dict(target.get_cube(resolve_cube(target, cube)["id"]).history(item_id))
    emit(entries, json, lambda rows: print_table(rows, HISTORY_COLUMNS))


def _move(ctx: typer.Context, cube: str, item_ids: list[str], action: str, as_json: bool) -> None:
    target = facade(ctx)
    memories = target.get_cube(resolve_cube(target, cube)["id"])
    items = [as_dict(getattr(memories, action)(item_id)) for item_id in item_ids]
    emit(items, as_json, lambda rows: say("\n".join(f"{row['id']} is now {row['state']}."
                                                    for row in rows)))


def _read_texts(texts: list[str]) -> list[str]:
    if texts == ["-"]:
        texts = [line.strip() for line in sys.stdin if line.strip()]
    if not texts:
        raise CliError("no memories to add")
    return texts


def _print_page(page: dict, offset: int) -> None:
    rows = [row | {"text": _preview(row["text"])} for row in page["items"]]
    shown = f"{offset + 1}-{offset + len(rows)}" if rows else "none"
    print_table(rows, ITEM_COLUMNS, title=f"{shown} of {page['total']}")


@app.command("forget-check", epilog="Example: memos memories forget-check notes 3f2a9c... "
                                   "--text 'Alice lives in Lisbon.'")
def forget_check(
    ctx: typer.Context,
    cube: CubeRef,
    item_ids: Annotated[list[str] | None, typer.Argument(
        help="Ids of deleted or corrected memories.", show_default=False)] = None,
    text: Annotated[list[str] | None, typer.Option(
        "--text", help="A forgotten text to look for (repeatable; for purged memories).")
    ] = None,
    no_probe: Annotated[bool, typer.Option(
        "--no-probe", help="Ask search only, not the model (much faster).")] = False,
    json: Json = False,
) -> None:
    """Check that memories are gone from every kind and that neither search nor the model
    still states them (exit code 3 when anything remains or is stated)."""
    target = facade(ctx)
    report = target.forget_check(resolve_cube(target, cube)["id"], item_ids or [], text or [],
                                 probe_model=not no_probe)
    emit(report, json, _print_forget_check)
    if not report["clean"] or report["probes"]["reproduced"]:
        raise typer.Exit(code=FORGET_CHECK_REMAINS)


def _print_forget_check(report: dict) -> None:
    rows = [{"status": status, "kind": entry["kind"],
             "where": entry.get("where", ""), "detail": _detail_of(entry)}
            for status, key in (("REMAINS", "remains"), ("retained", "retained"))
            for entry in report[key]]
    print_table(rows, FORGET_COLUMNS, empty="(nothing found)")
    say("clean: nothing of it can be served" if report["clean"]
        else f"{len(report['remains'])} copies remain")
    if report.get("exports"):
        held = sum(bool(archive["members"]) for archive in report["exports"])
        say(f"export archives: {len(report['exports'])} recorded, {held} still hold it")
    _print_probes(report["probes"])


def _print_probes(probes: dict) -> None:
    columns = [("kind", "probe"), ("text", "prompt"), *((c, c) for c in probes["channels"])]
    rows = [{"kind": result["kind"], "text": result["prompt"]}
            | {a["channel"]: ", ".join(a["found"]) or "-" for a in result["answers"]}
            for result in probes["results"]]
    print_table(rows, columns, empty="(no probes: no value to look for)")
    stating = [c for c in probes["channels"] if any(
        a["channel"] == c and a["reproduced"] for r in probes["results"] for a in r["answers"])]
    say(f"reproduced: {', '.join(stating)} still state it" if stating
        else f"not reproduced (asked {', '.join(probes['channels'])})")


def _detail_of(entry: dict) -> str:
    return ", ".join(f"{name}={value}" for name, value in entry.items()
                     if name not in ("kind", "where"))


def _print_hits(hits: list[dict], cube_names: dict[str, str]) -> None:
    rows = [{"score": hit["score"], "id": hit["item"]["id"],
             "cube": cube_names.get(hit["item"]["cube_id"], hit["item"]["cube_id"]),
             "state": hit["item"]["state"] + (" (superseded)" if hit["item"].get(
                 "superseded_by") else ""), "text": _preview(hit["item"]["text"])}
            for hit in hits]
    print_table(rows, HIT_COLUMNS, empty="(no hits)")


def _preview(text: str) -> str:
    return text if len(text) <= TEXT_PREVIEW else text[: TEXT_PREVIEW - 1] + "…"
