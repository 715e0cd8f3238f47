"""Which prefix-tree nodes the scheduler pins: shared prefixes first, parents before children."""

import pytest

from activation_cache import HotPath, nodes_to_pin


def _path(names: str, uses: int, tokens: int = 10) -> HotPath:
    """A path whose node keys are its prefixes ("h", "hA", "hAB"), each of ``tokens`` tokens."""
    return HotPath([names[: i + 1] for i in range(len(names))], [tokens] * len(names), uses)


def test_shared_prefixes_are_pinned_before_a_whole_path():
    paths = [_path("hAB", 3), _path("hAC", 3), _path("hAD", 3), _path("hEF", 4)]
    # Room for three nodes: the head and A (9 uses) beat E and F (4 uses each).
    assert nodes_to_pin(paths, budget_tokens=30) == ["h", "hA", "hE"]


def test_a_node_is_never_pinned_without_its_parent():
    paths = [_path("hA", 5, tokens=10), _path("hB", 1, tokens=10)]
    for path in paths:
        path.tokens[0] = 50  # a long head: a budget under 50 tokens cannot hold it
    assert nodes_to_pin(paths, budget_tokens=40) == []
    assert nodes_to_pin(paths, budget_tokens=65) == ["h", "hA"]


def test_pins_stay_within_the_budget_and_skip_unused_paths():
    paths = [_path("hAB", 2), _path("hC", 0)]
    chosen = nodes_to_pin(paths, budget_tokens=25)
    assert chosen == ["h", "hA"]
    assert nodes_to_pin(paths, budget_tokens=1000) == ["h", "hA", "hAB"]


def test_hot_path_needs_one_token_count_per_node():
    with pytest.raises(ValueError):
        HotPath(["a", "ab"], [1], uses=1)


def test_a_prefix_many_sets_share_is_pinned_though_no_set_repeats():
    paths = [_path("hAB", 1), _path("hAC", 1), _path("hAD", 1), _path("hEF", 1)]
    assert nodes_to_pin(paths, budget_tokens=1000, min_uses=2) == ["h", "hA"]
