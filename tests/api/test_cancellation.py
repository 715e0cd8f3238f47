"""A client that leaves stops its generation; queues over their bounds answer 429 or 503."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.api.conftest import LiveServer, start_server
from tests.api.test_fairness import make_user, wait_until

LONG = {"messages": [{"role": "user", "content": "Count from 1 to 500, separated by commas."}],
        "max_new_tokens": 400, "memory_kinds": ["plaintext"]}
FEW_TOKENS = 20  # what may still be decoded between a disconnect and its cancel taking hold


@pytest.fixture(scope="module")
def tight(engine, embedder, tmp_path_factory) -> Iterator[LiveServer]:
    """One model slot, one queued request per user, two in all."""
    server = start_server(tmp_path_factory.mktemp("tight-home"), engine, embedder,
                          model_max_running=1, model_max_queued_per_user=1, model_max_queued=2)
    yield server
    server.stop()


def send_request(server: LiveServer, key: str, path: str, body: dict) -> socket.socket:
    """POST over a raw socket, so the test decides exactly when the client goes away."""
    url = urlparse(server.url)
    sock = socket.create_connection((url.hostname, url.port))
    data = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
    sock.sendall(head.encode() + data)
    return sock


def idle(server: LiveServer) -> bool:
    stats = server.mos.model_queue.stats()
    return (stats["running"] == 0 and stats["queued"] == 0
            and server.mos.engine.counters.generations_running == 0)


def test_streaming_client_that_leaves_stops_its_generation(tight):
    key = make_user(tight, "streamer")
    counters = tight.mos.engine.counters
    sock = send_request(tight, key, "/v1/chat/stream", LONG)
    received = b""
    while received.count(b"event: delta") < 3:
        received += sock.recv(4096)
    closed_at = counters.tokens_generated
    sock.close()
    wait_until(lambda: idle(tight), "the generation to stop")
    assert counters.tokens_generated - closed_at <= FEW_TOKENS
    assert counters.generations_cancelled >= 1


def test_plain_client_that_leaves_stops_its_generation(tight):
    key = make_user(tight, "leaver")
    counters = tight.mos.engine.counters
    before = counters.tokens_generated
    sock = send_request(tight, key, "/v1/chat", LONG)
    wait_until(lambda: counters.tokens_generated - before >= 5, "decoding to start")
    closed_at = counters.tokens_generated
    sock.close()
    wait_until(lambda: idle(tight), "the generation to stop")
    assert counters.tokens_generated - closed_at <= FEW_TOKENS


def test_queues_over_their_bounds_answer_429_then_503(tight):
    ann, bea, cid = (make_user(tight, name) for name in ("ann", "bea", "cid"))
    queue = tight.mos.model_queue
    running = send_request(tight, ann, "/v1/chat", LONG)
    wait_until(lambda: queue.stats()["running"] == 1, "ann's first chat to run")
    queued = send_request(tight, ann, "/v1/chat", LONG)
    wait_until(lambda: queue.queued("ann") == 1, "ann's second chat to queue")
    with tight.http(ann) as http:
        over_user = http.post("/v1/chat", json=LONG)
    other = send_request(tight, bea, "/v1/chat", LONG)
    wait_until(lambda: queue.stats()["queued"] == 2, "bea's chat to queue")
    with tight.http(cid) as http:
        over_all = http.post("/v1/chat", json=LONG)
    for sock in (running, queued, other):
        sock.close()
    wait_until(lambda: idle(tight), "the queue to empty once its clients left")

    assert over_user.status_code == 429
    assert over_user.json()["error"]["code"] == "too_many_requests"
    assert "limit is 1" in over_user.json()["error"]["message"]
    assert int(over_user.headers["Retry-After"]) > 0
    assert over_all.status_code == 503
    assert over_all.json()["error"]["code"] == "overloaded"
    assert int(over_all.headers["Retry-After"]) > 0
