"""The forget check's model probe: rule-built questions, paraphrases and completions asked
through search and default chat, before and after a delete, with the real model."""

from __future__ import annotations

import pytest

from memos import MemOS
from memos.probe_prompts import probes_for, reproduces

ANA = "Ana lives in Lisbon."
OTHERS = ("Bob's cat is called Mochi.", "Priya plays the cello in an orchestra.")


@pytest.fixture(scope="module")
def mos(tmp_path_factory, engine, embedder):
    with MemOS(home=tmp_path_factory.mktemp("probe") / "home", engine=engine,
               embedder=embedder) as mos:
        yield mos


@pytest.fixture(scope="module")
def people(mos):
    cube = mos.create_cube("people", owner="alice")
    ana = cube.add(ANA)
    for text in OTHERS:
        cube.add(text)
    return cube, ana


def test_probes_are_a_question_paraphrases_and_a_completion_cut_before_the_value():
    probes = {(p.kind, p.prompt): p.values for p in probes_for(ANA)}
    assert probes == {("question", "Where does Ana live?"): ("Lisbon",),
                      ("paraphrase", "Do you know where Ana lives?"): ("Lisbon",),
                      ("paraphrase", "What do you know about Ana?"): ("Lisbon",),
                      ("completion", "Ana lives in"): ("Lisbon",)}
    [completion] = [p for p in probes_for("Dana's gate code is 5512.") if p.kind == "completion"]
    assert (completion.prompt, completion.values) == ("Dana's gate code is", ("5512",))
    assert reproduces("She lives in lisbon.", ("Lisbon",)) == ["Lisbon"]
    assert reproduces("Lisboness", ("Lisbon",)) == []


def test_search_reproduces_a_live_note_checked_by_its_text(mos, people):
    cube, ana = people
    probes = mos.forget_check(cube.id, texts=[ANA], probe_model=False)["probes"]
    assert probes["channels"] == ["search"] and not probes["model_asked"]
    assert probes["reproduced"]
    hits = [a for r in probes["results"] for a in r["answers"] if a["reproduced"]]
    assert hits and {a["item_id"] for a in hits} == {ana.id}


def test_after_the_delete_neither_search_nor_default_chat_reproduces_it(mos, people):
    cube, ana = people
    cube.delete(ana.id)
    report = mos.forget_check(cube.id, [ana.id])
    probes = report["probes"]
    assert report["clean"] and probes["channels"] == ["search", "chat"]  # no adapter
    assert [r["kind"] for r in probes["results"]] == [
        "question", "paraphrase", "paraphrase", "completion"]
    for result in probes["results"]:
        assert [a["channel"] for a in result["answers"]] == ["search", "chat"]
        assert not any(a["reproduced"] for a in result["answers"]), result
    assert not probes["reproduced"]
