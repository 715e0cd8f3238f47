"""Schemathesis over the OpenAPI schema: generated requests never get a 5xx or an off-schema reply.

Every route is fuzzed, chat included. Generated token budgets are capped at a few tokens (and
memory budgets kept small) so that chat cases take seconds, not minutes; everything else about
the generated requests is left as generated.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ADMIN_KEY, start_server

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


@pytest.fixture(scope="module")
def fuzzed_server(engine, embedder, tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("fuzz-home"), engine, embedder)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzzed_server):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    return schema


def test_generated_requests_get_documented_non_5xx_replies(api_schema, fuzzed_server):
    failures = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, fuzzed_server.url)
        except Exception as error:  # collected per operation and reported together below
            failures[operation.label] = _describe(error)
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())


def _fuzz(operation, base_url: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        _cap_generation(case)
        case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=120,
                               headers={"Authorization": f"Bearer {ADMIN_KEY}"})

    run()


TOKEN_FIELDS = ("max_new_tokens", "max_tokens", "max_completion_tokens")


def _cap_generation(case) -> None:
    """Keep generated chat requests short: a few new tokens at most."""
    body = case.body
    if not isinstance(body, dict) or "messages" not in body:
        return
    for name in TOKEN_FIELDS:
        if isinstance(body.get(name), int) and body[name] > 4:
            body[name] = 4
    if not any(name in body for name in TOKEN_FIELDS):
        body["max_tokens" if "model" in body else "max_new_tokens"] = 4


def _describe(error: BaseException) -> str:
    inner = getattr(error, "exceptions", ())
    text = f"{type(error).__name__}: {str(error)[:1500]}"
    return "\n".join([text, *(_describe(e) for e in inner)])
