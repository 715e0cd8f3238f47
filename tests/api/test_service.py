"""Health and Prometheus metrics."""

from __future__ import annotations

from tests.api.conftest import ADMIN_KEY


def test_health_reports_the_loaded_model_and_embedder(live, engine):
    with live.http(None) as http:
        health = http.get("/health").json()
    assert health["status"] == "ok" and health["version"]
    assert health["model"] == engine.name and health["fingerprint"] == engine.fingerprint
    assert (health["device"], health["dtype"]) == ("cpu", "float32")
    assert (health["embedder"], health["embedding_dim"]) == ("all-MiniLM-L6-v2", 384)


def test_metrics_count_requests_by_route_and_status(live, alice):
    alice.list_cubes()
    with live.http(None) as http:
        http.get("/v1/cubes")  # a 401
    with live.http(ADMIN_KEY) as http:
        text = http.get("/metrics").text
    assert 'memos_http_requests_total{method="GET",route="/v1/cubes",status="200"}' in text
    assert 'memos_http_requests_total{method="GET",route="/v1/cubes",status="401"}' in text
    assert 'memos_http_request_duration_seconds_bucket{method="GET",route="/v1/cubes",le="+Inf"}' \
        in text
    assert "# TYPE memos_http_request_duration_seconds histogram" in text


def test_metrics_need_an_admin_key(live, alice_key):
    with live.http(None) as http:
        assert http.get("/metrics").status_code == 401
    with live.http(alice_key) as http:
        assert http.get("/metrics").status_code == 403


def test_ready_reports_the_model_queue(live):
    with live.http(None) as http:
        body = http.get("/ready").json()
    assert body == {"ready": True, "running": 0, "queued": 0}
