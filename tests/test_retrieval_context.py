"""Field-grade retrieval: spaCy entities, dates resolved per note, session turns, note links."""

from datetime import UTC, datetime

import pytest

from memcube.entities import EntityExtractor, resolve_dates
from memcube.keywords import extract_entities
from memcube.session_context import NEXT, PREVIOUS, SessionTurns
from memcube.timeline import Timeline
from memos import MemOS

CANOE = "Ted lent me his canoe for the weekend."
FARM = "Ted is moving to a farm near the coast next spring."
FILLER = ["The bakery on the corner sells rye bread now.", "My laptop battery died again.",
          "It rained all afternoon, so we stayed in and played cards."]
# close to "who lent me a canoe?", so the farm note is reached by the walk, not by search
BOATS = ["My sister borrowed my bike and returned it with a flat tyre.",
         "I lent my neighbour a ladder last month.", "Kayaks are on sale at the outdoor shop.",
         "We rented a rowing boat on the lake.", "The paddle snapped on our river trip.",
         "Who took my umbrella?"]
# more like the question than the answer turn is, so the answer is no search hit of its own
PETS = ["My neighbour's samoyed sheds everywhere.", "Samoyeds need a lot of brushing.",
        "The dog park was full of huskies today.", "What do you call a fluffy white dog?",
        "Our cat is called Pepper.", "The vet said the samoyed is healthy.",
        "I want a dog but my flat is too small.", "Which breed sheds the least?",
        "Her puppy is called Mochi.", "A samoyed smiles all the time.",
        "The shelter has two samoyed puppies.", "Dog names are hard to choose."]
CHAT = [("Ilse", "Did you settle on a name for the samoyed yet?"),
        ("Kwame", "Sprocket! It just suits the little guy."),
        ("Ilse", "Ha, I love it."),
        ("Kwame", "How is your new flat?"),
        ("Ilse", "Cosy, but the heating is loud.")]


@pytest.fixture
def mos(tmp_path, embedder):
    with MemOS(home=tmp_path / "home", embedder=embedder) as mos:
        yield mos


def test_last_tuesday_resolves_against_the_notes_own_date():
    found = EntityExtractor().extract("Last Tuesday I ran my first trail race.",
                                      datetime(2023, 5, 11, 18, 30, tzinfo=UTC))
    assert found.dates == [datetime(2023, 5, 9)]
    assert resolve_dates(["yesterday", "every Sunday"], datetime(2023, 5, 11)) == [
        datetime(2023, 5, 10)]


def test_an_entity_the_rules_miss_links_two_notes(mos):
    assert "Ted" not in extract_entities(CANOE) + extract_entities(FARM)
    cube = mos.create_cube("friends", owner="alice")
    canoe, farm, *_ = cube.add_many([{"text": text} for text in [CANOE, FARM, *BOATS]])
    hits = cube.search("Who lent me a canoe?", k=5)
    assert hits[0].item.id == canoe.id
    bridged = next(hit for hit in hits if hit.item.id == farm.id)
    assert bridged.why["graph"]["path"] == [canoe.id, "entity:ted", farm.id]
    assert bridged.why["graph"]["edges"] == ["entity", "entity"]


def test_a_question_window_admits_notes_that_name_the_day(mos):
    cube = mos.create_cube("diary", owner="alice")
    race, *_ = cube.add_many([
        {"text": "Last Tuesday I ran my first trail race.",
         "event_time": datetime(2023, 5, 11, tzinfo=UTC)},
        {"text": "I ran to the shop for milk.", "event_time": datetime(2023, 5, 9, 8, tzinfo=UTC)},
        {"text": "I ran a 10k in the rain.", "event_time": datetime(2023, 6, 2, tzinfo=UTC)}])
    hits = cube.search("What did I do on 9 May 2023?", k=5)
    assert race.id in [hit.item.id for hit in hits]
    assert all(hit.item.event_time.month == 5 for hit in hits)


def test_the_answer_in_the_next_turn_comes_with_its_neighbour_reason(mos):
    cube = mos.create_cube("chat", owner="alice")
    cube.add_many([{"text": text} for text in FILLER + PETS])
    turns = cube.add_many([{"text": f"{speaker}: {text}", "session_id": "chat-1"}
                           for speaker, text in CHAT])
    hits = cube.search("What is the samoyed called?", k=5)
    answer = next(hit for hit in hits if hit.item.id == turns[1].id)
    assert answer.why["session"]["neighbour_of"] == turns[0].id
    assert answer.why["session"]["turn"] == NEXT
    assert "after a question" in answer.why["session"]["reason"]


def test_session_turns_know_their_neighbours_and_forget_removed_ones():
    turns = SessionTurns()
    for position, note_id in enumerate("abcd"):
        turns.add(note_id, "s1", position)
    turns.add("x", None, 0)
    assert turns.neighbours("b") == [("a", PREVIOUS), ("c", NEXT)]
    turns.remove("c")
    assert turns.neighbours("b") == [("a", PREVIOUS), ("d", NEXT)]
    assert turns.neighbours("x") == [] and turns.neighbours("zzz") == []


def test_timeline_lists_each_note_once_and_forgets_it():
    timeline = Timeline()
    timeline.add(datetime(2023, 5, 9), "race")
    timeline.add(datetime(2023, 5, 20), "race")
    timeline.add(datetime(2023, 5, 10), "shop")
    assert timeline.between(datetime(2023, 5, 1), datetime(2023, 6, 1)) == ["race", "shop"]
    timeline.remove("race")
    assert timeline.between(None, None) == ["shop"] and len(timeline) == 1
