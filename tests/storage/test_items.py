"""Every field of a memory comes back from the database exactly as it went in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from storage.errors import InvalidInput, NotFound

METADATA = {"speaker": "Zoë", "nested": {"scores": [1, 2.5, None], "ok": True},
            "escaped": "nul\u0000inside", "emoji": "🐝"}


def test_every_field_round_trips(mos):
    cube = mos.create_cube("fields")
    when = datetime(2023, 5, 4, 18, 30, tzinfo=timezone(timedelta(hours=-3)))
    item = cube.add("Zoë keeps 🐝 bees in São Paulo.", metadata=METADATA, tags=["bees"],
                    keywords=["bees", "são paulo"], context="hobbies", event_time=when,
                    ttl_seconds=86400.5, source_type="chat", source_id="m-1", actor="zoe",
                    session_id="s-9")
    stored = mos.items.get(item.id)
    assert stored.to_dict() == item.to_dict()
    assert stored.text == "Zoë keeps 🐝 bees in São Paulo." and stored.metadata == METADATA
    assert (stored.tags, stored.keywords, stored.context) == (
        ["bees"], ["bees", "são paulo"], "hobbies")
    assert stored.event_time == when and stored.event_time.tzinfo == UTC
    assert stored.created_at.tzinfo == UTC and stored.ttl_seconds == 86400.5
    assert (stored.provenance.source_type, stored.provenance.source_id,
            stored.provenance.actor, stored.provenance.session_id) == ("chat", "m-1", "zoe", "s-9")
    np.testing.assert_array_equal(stored.embedding, mos.embedder.embed_one(item.text))


def test_items_get_increasing_index_ids_in_insertion_order(mos):
    cube = mos.create_cube("order")
    items = cube.add_many([{"text": f"Harbour log entry {n}: {word} arrived."}
                           for n, word in enumerate(["ferry", "trawler", "yacht", "tanker"])])
    seqs = mos.items.seq_of([item.id for item in items])
    assert [seqs[item.id] for item in items] == sorted(seqs.values())
    listed, total = cube.list()
    assert total == 4 and [item.id for item in listed] == [item.id for item in reversed(items)]


def test_text_with_a_nul_character_is_invalid_on_every_backend(mos):
    cube = mos.create_cube("nul")
    with pytest.raises(InvalidInput, match="NUL"):
        cube.add("before\x00after")
    assert cube.list()[1] == 0


def test_memory_of_another_cube_is_not_found(mos):
    mine, theirs = mos.create_cube("mine"), mos.create_cube("theirs")
    item = theirs.add("The ferry leaves the harbour at seven.")
    with pytest.raises(NotFound):
        mine.get(item.id)
