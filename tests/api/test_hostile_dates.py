"""Impossible or extreme dates typed into a query never fail search, chat or chat/stream."""

from __future__ import annotations

from datetime import datetime

import pytest

from memcube.hybrid import time_range_in

HOSTILE_DATES = [
    "2023-13-45", "2023-00-00", "2023-02-30", "0000-01-01", "9999-12-31", "99999-01-01",
    "31 February 2023", "00 May 2023", "99 March 2023", "31 December 9999", "1 January 0000",
    "December 9999", "January 0000", "May 0000", "in 1899", "from 2099",
    "May 2023 and 2023-13-45", "2023-13-45 or 31 February 2023 or December 9999",
]


@pytest.fixture(scope="module")
def cube(alice):
    cube = alice.create_cube("hostile-dates")
    cube.add_many([
        {"text": "Alice moved to Lisbon in May 2023.", "event_time": "2023-05-10T00:00:00Z"},
        {"text": "Bob adopted a cat named Miso.", "event_time": "2024-01-02T00:00:00Z"},
    ])
    yield cube
    alice.delete_cube(cube.id)


def _question(date: str) -> str:
    return f"What happened on {date}?"


def test_impossible_dates_are_no_time_window_and_extreme_ones_are_clamped():
    assert time_range_in("What happened on 2023-13-45?") is None
    assert time_range_in("What happened on 0000-01-01?") is None
    assert time_range_in("December 9999") == (datetime(9999, 12, 1), datetime.max)
    assert time_range_in("2023-13-45, then May 2023") == (datetime(2023, 5, 1),
                                                         datetime(2023, 6, 1))


def test_hostile_dates_never_fail_cube_or_global_search(live, alice_key, cube):
    with live.http(alice_key) as http:
        for date in HOSTILE_DATES:
            body = {"query": _question(date), "k": 2}
            one = http.post(f"/v1/cubes/{cube.id}/search", json=body)
            every = http.post("/v1/search", json={**body, "cube_ids": [cube.id]})
            assert (one.status_code, every.status_code) == (200, 200), (date, one.text, every.text)


def test_hostile_dates_never_fail_chat(live, alice_key, cube):
    with live.http(alice_key) as http:
        for date in HOSTILE_DATES:
            body = {"messages": [{"role": "user", "content": _question(date)}],
                    "cube_ids": [cube.id], "k": 2, "max_new_tokens": 1}
            reply = http.post("/v1/chat", json=body)
            assert reply.status_code == 200, (date, reply.text)


def test_hostile_dates_never_fail_chat_stream(live, alice_key, cube):
    with live.http(alice_key) as http:
        for date in HOSTILE_DATES:
            body = {"messages": [{"role": "user", "content": _question(date)}],
                    "cube_ids": [cube.id], "k": 2, "max_new_tokens": 1}
            with http.stream("POST", "/v1/chat/stream", json=body) as response:
                events = [line for line in response.iter_lines() if line.startswith("event:")]
            assert response.status_code == 200, date
            assert events[-1] == "event: done", (date, events)
