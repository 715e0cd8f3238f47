"""The note graph: a neighbourhood around a chosen note, drawn by the console's own script."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.console.deps import ReadableCube, ViewerDep
from api.console.route import PREFIX, ConsoleRoute, page
from memcube.hybrid import ENTITY_PREFIX, entity_nodes
from memcube.keywords import extract_entities

router = APIRouter(prefix=PREFIX + "/cubes/{cube_id}/graph", route_class=ConsoleRoute)
MAX_NODES = 80
MAX_ENTITIES = 40
LABEL_CHARS = 60
Hops = Annotated[int, Query(ge=1, le=3)]
Center = Annotated[str, Query(max_length=64)]


@router.get("")
def graph_page(request: Request, cube: ReadableCube, viewer: ViewerDep, center: Center = "",
               hops: Hops = 2, entities: bool = True):
    """The graph page (the drawing is fetched from ``graph/data``)."""
    return page(request, "graph.html", viewer=viewer, cube=cube,
                center=center or _newest(cube), hops=hops, entities=entities)


@router.get("/data")
def graph_data(cube: ReadableCube, viewer: ViewerDep, center: Center = "", hops: Hops = 2,
               entities: bool = True):
    """Nodes and links within ``hops`` of ``center`` (at most MAX_NODES notes), and the
    entities those notes mention (the nodes the search's graph walk goes through)."""
    center = center or _newest(cube)
    if not center:
        return JSONResponse({"nodes": [], "links": [], "center": None})
    nodes, links = neighbourhood(cube, center, hops)
    if entities:
        more_nodes, more_links = mentioned_entities(nodes)
        nodes, links = nodes + more_nodes, links + more_links
    for node in nodes:
        node.pop("text", None)  # read for its entities; the label is enough to draw
    return JSONResponse({"nodes": nodes, "links": links, "center": center})


def _newest(cube) -> str:
    items, _ = cube.list(limit=1)
    return items[0].id if items else ""


def neighbourhood(cube, center: str, hops: int) -> tuple[list[dict], list[dict]]:
    """Breadth-first from ``center`` over the cube's links, capped at MAX_NODES notes."""
    order, frontier, links, pairs = {center: None}, [center], [], set()
    for _ in range(hops):
        next_frontier = []
        for node in frontier:
            for link in cube.links(node):
                other = link["id"]
                if other not in order:
                    if len(order) >= MAX_NODES:
                        continue
                    order[other] = None
                    next_frontier.append(other)
                pair = (min(node, other), max(node, other), link["kind"])
                if pair not in pairs:
                    pairs.add(pair)
                    links.append({"source": node, "target": other, "kind": link["kind"],
                                  "weight": round(link["weight"], 3)})
        frontier = next_frontier
    items = cube.peek_many(list(order))  # one read; drawing a note is not an access
    links = [link for link in links if link["source"] in items and link["target"] in items]
    return [_node(items[i], i == center) for i in order if i in items], links


def _node(item, is_center: bool) -> dict:
    label = item.text if len(item.text) <= LABEL_CHARS else item.text[:LABEL_CHARS - 1] + "…"
    return {"id": item.id, "label": label, "state": item.state.value, "center": is_center,
            "type": "note", "text": item.text}


def mentioned_entities(notes: list[dict]) -> tuple[list[dict], list[dict]]:
    """Entity nodes of the notes (as the search's entity graph keys them) and "mentions" links;
    the MAX_ENTITIES named by most of the notes are kept."""
    mentions = {note["id"]: entity_nodes(extract_entities(note["text"])) for note in notes}
    counts: dict[str, int] = {}
    for nodes in mentions.values():
        for node in nodes:
            counts[node] = counts.get(node, 0) + 1
    kept = sorted(counts, key=lambda node: (-counts[node], node))[:MAX_ENTITIES]
    entities = [{"id": node, "label": node.removeprefix(ENTITY_PREFIX), "state": "entity",
                 "type": "entity", "center": False, "notes": counts[node]} for node in kept]
    kept_set = set(kept)
    links = [{"source": note_id, "target": node, "kind": "mentions", "weight": 1.0}
             for note_id, nodes in mentions.items() for node in nodes if node in kept_set]
    return entities, links
