"""KV figures and chats stay within a tenant: another tenant's cube answers like a random id."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import ADMIN_KEY

QUESTION = [{"role": "user", "content": "Where is the passport?"}]


@pytest.fixture(scope="module")
def cubes(alice, bob):
    mine = alice.create_cube("kv-tenant-alice")
    theirs = bob.create_cube("kv-tenant-bob")
    alice.warm(mine.id, [mine.add("Alice keeps her passport in the blue drawer.").id])
    bob.warm(theirs.id, [theirs.add("Bob keeps his bike in the shed.").id])
    yield mine, theirs
    alice.delete_cube(mine.id)
    bob.delete_cube(theirs.id)


def test_plain_user_sees_only_their_own_cubes_kv_figures(live, bob_key, cubes):
    mine, theirs = cubes
    with live.http(bob_key) as http:
        stats = http.get("/v1/kv/stats").json()
    assert stats["scope"] == "cubes" and mine.id not in stats["cube_ids"]
    assert theirs.id in stats["cube_ids"]
    bobs = [e for e in live.mos.activation.entries() if e["cube_id"] in stats["cube_ids"]]
    assert stats["entries"] == len(bobs) >= 1
    assert sum(t["bytes"] for t in stats["tiers"].values()) == sum(e["nbytes"] for e in bobs)
    assert "misses" not in stats and "corrupt_files" not in stats  # global counters stay hidden


def test_admin_sees_the_global_kv_figures(live, cubes):
    with live.http(ADMIN_KEY) as http:
        stats = http.get("/v1/kv/stats").json()
    assert stats["scope"] == "global" and "misses" in stats
    assert stats["entries"] == len(live.mos.activation.entries()) >= 2


@pytest.mark.parametrize("kinds", [["activation"], ["parametric"], ["activation", "parametric"],
                                   None])
@pytest.mark.parametrize("route", ["/v1/chat", "/v1/chat/stream"])
def test_chat_with_another_tenants_cube_answers_like_a_random_id(live, bob_key, cubes, kinds,
                                                                 route):
    mine, _ = cubes
    before = (mine.list(), live.mos.activation.entries(mine.id))
    answers = []
    with live.http(bob_key) as http:
        for cube_id in (mine.id, uuid.uuid4().hex):
            body = {"messages": QUESTION, "cube_ids": [cube_id], "max_new_tokens": 1,
                    "write_back": False}
            if kinds is not None:
                body["memory_kinds"] = kinds
            response = http.post(route, json=body)
            message = response.json()["error"]["message"].replace(cube_id, "<id>")
            answers.append((response.status_code, response.json()["error"]["code"], message))
    assert answers[0] == answers[1] and answers[0][0] == 404
    assert (mine.list(), live.mos.activation.entries(mine.id)) == before


def test_one_tenants_cached_prompt_is_never_reused_by_another(alice, bob):
    """Exact reuse stays within a tenant: another tenant sending the very same prompt computes
    it (so it cannot tell, from its time to first token, what anyone else asked)."""
    conversation = [{"role": "user", "content": "Draft a note about the Q3 merger with Initech."}]
    cubes = {"alice": alice.create_cube("kv-ns-alice"), "bob": bob.create_cube("kv-ns-bob")}

    def reused(client, name: str) -> int:
        reply = client.chat(conversation, cube_ids=[cubes[name].id], max_new_tokens=1,
                            memory_kinds=("activation",), activation_mode="exact")
        return reply.stats.exact_reused_tokens

    try:
        first, again = reused(alice, "alice"), reused(alice, "alice")
        other, other_again = reused(bob, "bob"), reused(bob, "bob")
    finally:
        alice.delete_cube(cubes["alice"].id)
        bob.delete_cube(cubes["bob"].id)
    assert again > first  # alice reuses her own prompt, the question included
    # bob reuses at most his own earlier system head: never alice's turn
    assert other < again and other_again == again
