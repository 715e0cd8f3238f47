"""Retrieval building blocks: FAISS index, link graph, BM25, keywords and rank fusion."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from memcube.fusion import fuse
from memcube.hybrid import HybridConfig, HybridRetriever, Note, time_range_in
from memcube.keywords import CorpusStats, extract_attributes, extract_entities
from memcube.lexical import LexicalIndex
from storage.errors import CorruptBlob
from storage.graph_store import LinkGraph
from storage.vector_index import VectorIndex

DIM = 32


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(params=["flat", "hnsw"])
def filled_index(request) -> tuple[VectorIndex, np.ndarray]:
    threshold = 10_000 if request.param == "flat" else 50
    index = VectorIndex(DIM, hnsw_threshold=threshold)
    vectors = unit_vectors(200)
    index.add(np.arange(1000, 1200), vectors)
    assert index.is_hnsw == (request.param == "hnsw")
    return index, vectors


# VectorIndex


def test_index_finds_each_vector_as_its_own_nearest(filled_index):
    index, vectors = filled_index
    for row in (0, 57, 199):
        best_id, best_score = index.search(vectors[row], 3)[0]
        assert best_id == 1000 + row and best_score == pytest.approx(1.0, abs=1e-5)
    assert len(index) == 200 and 1057 in index and 57 not in index


def test_index_never_returns_removed_ids(filled_index):
    index, vectors = filled_index
    removed = list(range(1000, 1100))
    index.remove(removed)
    results = index.search_many(vectors[:100], 10)
    assert all(id_ not in removed for row in results for id_, _ in row)
    assert all(len(row) == 10 for row in results)
    assert len(index) == 100 and 1000 not in index


def test_index_readding_an_id_replaces_its_vector(filled_index):
    index, vectors = filled_index
    index.add(np.array([1000]), vectors[5:6])
    assert [id_ for id_, _ in index.search(vectors[5], 2)] in ([1000, 1005], [1005, 1000])
    assert index.search(vectors[0], 1)[0][0] != 1000
    np.testing.assert_allclose(index.vector(1000), vectors[5], atol=1e-6)
    np.testing.assert_allclose(index.vectors([1001, 1000]), vectors[[1, 5]], atol=1e-6)


def test_index_switches_to_hnsw_past_threshold_and_back_after_removals():
    index = VectorIndex(DIM, hnsw_threshold=100)
    vectors = unit_vectors(150)
    index.add(np.arange(100), vectors[:100])
    assert not index.is_hnsw
    index.add(np.arange(100, 150), vectors[100:])
    assert index.is_hnsw and len(index) == 150
    index.remove(np.arange(100))
    assert not index.is_hnsw and len(index) == 50
    assert index.search(vectors[120], 1)[0][0] == 120


def test_index_empty_search_returns_nothing():
    index = VectorIndex(DIM)
    assert index.search(unit_vectors(1)[0], 5) == []
    assert index.search_many(unit_vectors(2), 5) == [[], []]


def test_index_save_load_round_trip(filled_index, tmp_path):
    index, vectors = filled_index
    index.remove([1003])
    index.save(tmp_path / "vectors.idx")
    loaded = VectorIndex.load(tmp_path / "vectors.idx")
    assert loaded.is_hnsw == index.is_hnsw and len(loaded) == len(index) and 1003 not in loaded
    assert loaded.search(vectors[9], 5) == index.search(vectors[9], 5)
    np.testing.assert_allclose(loaded.vector(1042), vectors[42], atol=1e-6)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_index_load_of_damaged_file_raises_corrupt_blob(filled_index, tmp_path, damage):
    index, _ = filled_index
    path = tmp_path / "vectors.idx"
    index.save(path)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-100] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = bytearray(b"not an index at all")
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptBlob):
        VectorIndex.load(path)


def test_index_build_matches_incremental_adds():
    vectors = unit_vectors(30)
    built = VectorIndex.build(DIM, np.arange(30), vectors)
    assert len(built) == 30 and built.search(vectors[4], 1)[0][0] == 4


# LinkGraph


def chain_graph() -> LinkGraph:
    return LinkGraph.build(
        [("a", "b", "entity", 1.0), ("b", "c", "entity", 0.5), ("c", "d", "entity", 1.0),
         ("a", "e", "keyword", 0.2), ("a", "e", "entity", 0.8)]
    )


def test_graph_expansion_decays_per_hop_and_records_paths():
    hits = chain_graph().expand({"a": 1.0}, hops=2, decay=0.5)
    assert hits["a"].score == 1.0 and hits["a"].path == ["a"]
    assert hits["b"].score == pytest.approx(0.5) and hits["b"].path == ["a", "b"]
    assert hits["e"].score == pytest.approx(0.4)  # strongest kind between a and e
    assert hits["c"].score == pytest.approx(0.125) and hits["c"].path == ["a", "b", "c"]
    assert "d" not in hits  # three hops away


def test_graph_expansion_keeps_the_best_path_from_several_seeds():
    hits = chain_graph().expand({"a": 1.0, "d": 0.9}, hops=2, decay=0.5, include_seeds=False)
    assert hits["c"].path == ["d", "c"] and hits["c"].score == pytest.approx(0.45)
    assert set(hits) == {"b", "c", "e"}


def test_graph_expansion_limit_keeps_the_strongest():
    hits = chain_graph().expand({"a": 1.0}, hops=3, limit=2)
    assert list(hits) == ["a", "b"]


def test_graph_remove_node_drops_its_links():
    graph = chain_graph()
    graph.remove_node("b")
    assert "b" not in graph
    assert [other for other, _, _ in graph.links("a")] == ["e", "e"]
    assert "c" not in graph.expand({"a": 1.0}, hops=3)


def test_graph_save_load_round_trip_and_corrupt_file(tmp_path):
    graph = chain_graph()
    graph.add_node("lonely")
    graph.save(tmp_path / "links.json")
    loaded = LinkGraph.load(tmp_path / "links.json")
    assert loaded.edge_count == graph.edge_count == 5
    assert sorted(loaded.links("a")) == sorted(graph.links("a")) and "lonely" in loaded
    (tmp_path / "links.json").write_text('{"version": 1, "edges": [["a"]]')
    with pytest.raises(CorruptBlob):
        LinkGraph.load(tmp_path / "links.json")


# LexicalIndex


def test_bm25_ranks_the_lexical_match_first():
    index = LexicalIndex()
    index.add(
        ["pet", "move", "food"],
        ["Tom adopted a beagle puppy named Biscuit.", "Maria moved to Lisbon last spring.",
         "I cooked a huge pot of ramen for dinner."],
    )
    assert index.search("who adopted the beagle?", 3)[0][0] == "pet"
    assert index.search("when did she move to Lisbon", 3)[0][0] == "move"


def test_bm25_never_returns_removed_ids_and_picks_up_new_ones():
    index = LexicalIndex()
    index.add(["a", "b"], ["beagle in the park", "a beagle at home"])
    index.remove(["a"])
    assert [id_ for id_, _ in index.search("beagle park", 5)] == ["b"]
    index.add(["c"], ["park run with the beagle"])
    assert {id_ for id_, _ in index.search("beagle park", 5)} == {"b", "c"}


def test_bm25_keeps_equal_scores_in_the_order_they_were_indexed_at_the_cut():
    index = LexicalIndex()
    ids = [f"copy{i}" for i in range(8)]
    index.add(["other", *ids], ["a harbour crane", *["the beagle sleeps"] * 8])
    assert [id_ for id_, _ in index.search("beagle", 3)] == ids[:3]
    assert [id_ for id_, _ in index.search("beagle", 20)] == ids


def _filler(count: int) -> tuple[list[str], list[str]]:
    topics = ["garden", "kitchen", "office", "harbour", "library", "station", "market"]
    ids = [f"f{i}" for i in range(count)]
    return ids, [f"note {i} about the {topics[i % len(topics)]} and its weekly schedule"
                 for i in range(count)]


def test_bm25_scores_notes_added_after_a_build_like_a_rebuild_would():
    index = LexicalIndex()
    index.add(*_filler(300))
    index.search("garden", 5)  # builds the static index
    index.add(["late"], ["the beagle sleeps in the garden shed"])
    index.add(["f3"], ["a beagle visited the office"])  # replaces a built note
    incremental = dict(index.search("beagle garden", 5))
    rebuilt = LexicalIndex()
    rebuilt.add(*_filler(300))
    rebuilt.add(["late", "f3"], ["the beagle sleeps in the garden shed",
                                 "a beagle visited the office"])
    expected = dict(rebuilt.search("beagle garden", 5))
    assert list(incremental)[:2] == list(expected)[:2] == ["late", "f3"]
    assert incremental["late"] == pytest.approx(expected["late"], rel=0.05)
    assert index.scores("harbour", ["f3"]) == {"f3": 0.0}  # its old text no longer counts
    index.remove(["late"])
    assert "late" not in dict(index.search("beagle garden", 5))


def test_bm25_handles_empty_index_and_unknown_terms():
    index = LexicalIndex()
    assert index.search("anything at all", 5) == []
    index.add(["a"], ["beagle"])
    assert index.search("zebra quantum", 5) == []
    assert index.search("the of and", 5) == []


# keywords


def test_entities_pick_names_places_and_dates():
    text = "Yesterday Maria Lopez flew from New York to Lisbon; she starts at Acme on 3 March 2023."
    entities = extract_entities(text)
    for expected in ("Maria Lopez", "New York", "Lisbon", "Acme", "3 March 2023", "2023"):
        assert expected in entities
    assert "Yesterday" not in entities


def test_attributes_rank_entities_and_tag_topics():
    text = "Tom adopted a beagle named Biscuit, and we took him to the vet in Denver."
    attributes = extract_attributes(text)
    assert {"tom", "biscuit", "denver"} <= set(attributes.keywords[:5])
    assert "pet" in attributes.tags
    assert attributes.context.startswith("About Tom, Biscuit, Denver:")
    assert len(attributes.context) <= 120


def test_attributes_prefer_terms_rare_in_the_corpus():
    stats = CorpusStats()
    for _ in range(20):
        stats.add("I went hiking again this weekend with friends")
    stats.add("pottery class")
    keywords = extract_attributes("hiking and pottery and hiking", stats).keywords
    assert keywords[0] == "pottery"


# fusion


def test_rrf_rewards_agreement_and_records_why():
    hits = fuse(
        {"dense": [("x", 0.9), ("y", 0.8), ("z", 0.1)], "lexical": [("y", 7.0), ("w", 3.0)]},
        details={"graph": {}, "lexical": {"y": {"terms": ["beagle"]}}},
    )
    assert [hit.id for hit in hits] == ["y", "x", "w", "z"]
    assert hits[0].why == {
        "dense": {"rank": 2, "score": 0.8},
        "lexical": {"rank": 1, "score": 7.0, "terms": ["beagle"]},
    }
    assert hits[0].score == pytest.approx(1 / 62 + 1 / 61)


def test_weighted_fusion_uses_normalised_scores_and_weights():
    hits = fuse(
        {"dense": [("x", 0.9), ("y", 0.5)], "graph": [("y", 0.4), ("x", 0.2)]},
        weights={"dense": 1.0, "graph": 2.0},
        method="weighted",
        details={"graph": {"y": {"path": ["x", "y"]}}},
    )
    assert [hit.id for hit in hits] == ["y", "x"]
    assert hits[0].why["graph"]["path"] == ["x", "y"]
    with pytest.raises(ValueError):
        fuse({}, method="borda")


# HybridRetriever


def hybrid_notes(embedder) -> list[Note]:
    rows = [
        ("pet", "Tom: We adopted a beagle from the shelter and named him Nala.", (2023, 3, 4)),
        ("home", "Tom: I've been living in Seattle for three years and I love it.", (2022, 6, 1)),
        ("ana", "Ana: I've been living in Lisbon since I was a kid.", (2022, 7, 9)),
        ("bo", "Bo: We live in Denver, close to the mountains.", (2023, 1, 2)),
        ("cat", "Ana: My sister adopted a cat last year.", (2023, 3, 20)),
        ("run", "Maria: I ran a half marathon last weekend!", (2023, 3, 12)),
        ("pottery", "Maria: I went to my first pottery class on Saturday.", (2023, 6, 3)),
        ("hike", "Maria: We went hiking in the Alps, it was great.", (2023, 8, 15)),
    ]
    vectors = embedder.embed([text for _, text, _ in rows])
    return [
        Note(id_, text, vector, datetime(*day), {"speaker": text.split(":")[0]},
             extract_attributes(text).keywords, extract_entities(text))
        for (id_, text, day), vector in zip(rows, vectors, strict=True)
    ]


@pytest.fixture(scope="module")
def retriever(embedder) -> HybridRetriever:
    retriever = HybridRetriever(embedder.dim)
    retriever.add(hybrid_notes(embedder))
    return retriever


def test_hybrid_bridges_from_the_top_hit_through_a_shared_entity(embedder):
    retriever = HybridRetriever(embedder.dim, HybridConfig(seeds=1))
    retriever.add(hybrid_notes(embedder))
    query = "What city does the person who adopted a beagle live in?"
    hits = retriever.search(query, embedder.embed_one(query), k=3)
    assert hits[0].id == "pet"
    home = next(hit for hit in hits if hit.id == "home")
    assert home.why["graph"]["path"] == ["pet", "entity:tom", "home"]


def test_hybrid_keeps_to_the_month_the_query_names(retriever, embedder):
    query = "What did Maria do in March 2023?"
    hits = retriever.search(query, embedder.embed_one(query), k=5)
    assert {hit.id for hit in hits} <= {"pet", "cat", "run"}
    assert hits[0].id == "run"


def test_hybrid_ignores_a_named_month_with_no_notes(retriever, embedder):
    query = "What did Maria do in May 1999?"
    assert retriever.search(query, embedder.embed_one(query), k=3)


def test_hybrid_applies_metadata_and_explicit_time_filters(retriever, embedder):
    query = "What did Maria do?"
    vector = embedder.embed_one(query)
    hits = retriever.search(query, vector, k=8, filters={"speaker": "Ana"})
    assert {hit.id for hit in hits} == {"ana", "cat"}
    hits = retriever.search(query, vector, k=8, window=(datetime(2023, 6, 1), None))
    assert {hit.id for hit in hits} == {"pottery", "hike"}


def test_metadata_filters_named_since_or_until_are_metadata(retriever, embedder):
    query = "What did Maria do?"
    hits = retriever.search(query, embedder.embed_one(query), k=8,
                            filters={"since": "2023", "until": "later"})
    assert hits == []  # no note has such metadata; the time window is left alone


def test_hybrid_never_returns_removed_notes(embedder):
    retriever = HybridRetriever(embedder.dim)
    retriever.add(hybrid_notes(embedder))
    retriever.remove(["pet", "home"])
    query = "What city does the person who adopted a beagle live in?"
    hits = retriever.search(query, embedder.embed_one(query), k=8)
    assert {"pet", "home"}.isdisjoint(hit.id for hit in hits) and len(retriever) == 6
    assert HybridRetriever(embedder.dim).search(query, embedder.embed_one(query), 5) == []


def test_time_range_in_reads_days_months_and_years():
    assert time_range_in("What happened on 2023-03-04?") == (datetime(2023, 3, 4),
                                                            datetime(2023, 3, 5))
    assert time_range_in("What did she do in December 2022?") == (datetime(2022, 12, 1),
                                                                 datetime(2023, 1, 1))
    assert time_range_in("Where did he travel in 2021?") == (datetime(2021, 1, 1),
                                                            datetime(2022, 1, 1))
    assert time_range_in("Where does Tom live?") is None
