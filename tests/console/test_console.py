"""The web console in a real browser: login, isolation, search's why, history, graph, KV, jobs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from console_browser import HOSTILE, open_tab, screenshot

from api.console.session import COOKIE


@pytest.fixture(scope="module")
def alice(browser, console):
    tab = open_tab(browser, console, "alice")
    yield tab
    assert not [d for d in tab.dialogs if d.startswith("alert")], tab.dialogs
    tab.context.close()


@pytest.fixture(scope="module")
def admin(browser, console):
    tab = open_tab(browser, console, "admin")
    yield tab
    tab.context.close()


def session_http(console, tab) -> httpx.Client:
    """An HTTP client carrying the browser's console session cookie (not its CSRF token)."""
    cookie = next(c for c in tab.context.cookies() if c["name"] == COOKIE)
    return httpx.Client(base_url=console.url, cookies={COOKIE: cookie["value"]},
                        follow_redirects=False, timeout=60)


def test_login_cookie_is_httponly_and_samesite_strict(console, alice):
    cookie = next(c for c in alice.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert cookie["value"] not in console.keys.values()


def test_plain_user_sees_only_own_cubes(console, alice):
    alice.page.goto("/console/")
    table = alice.page.inner_text("#cubes")
    assert "alice-notes" in table and "bob-secret" not in table
    assert alice.page.locator("#nav-users").count() == 0
    screenshot(alice.page, "cubes")


def test_search_shows_why_each_hit_was_found(console, alice):
    alice.page.goto(f"/console/cubes/{console.cubes['alice']}")
    alice.page.fill("#search-q", "Where does Alice live?")
    alice.page.click("#search-go")
    first = alice.page.locator(".hit").first
    assert "Lisbon" in first.inner_text()
    first.locator("summary").click()
    why = first.locator(".why-table").inner_text()
    assert "dense" in why and "lexical" in why
    screenshot(alice.page, "search")


def test_hostile_memory_text_renders_as_text_on_every_page(console, alice):
    cube = console.cubes["alice"]
    for path in (f"/console/cubes/{cube}", f"/console/cubes/{cube}?q=scripts+avatar",
                 f"/console/cubes/{cube}/memories/{console.items['img']}",
                 f"/console/cubes/{cube}/memories/{console.items['script']}",
                 f"/console/cubes/{cube}/graph?center={console.items['script']}"):
        response = alice.page.goto(path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        alice.page.wait_for_load_state("networkidle")
    alice.page.goto(f"/console/cubes/{cube}/memories/{console.items['script']}")
    assert alice.page.inner_text("#memory-body") == HOSTILE[1]
    assert alice.page.locator("main script").count() == 0
    assert not [d for d in alice.dialogs if d.startswith("alert")]


def test_memory_page_history_and_archive_leaves_search(console, alice):
    cube, item = console.cubes["alice"], console.items["nurse"]
    alice.page.goto(f"/console/cubes/{cube}/memories/{item}")
    alice.page.click("#archive")
    assert alice.page.inner_text("#memory-state") == "archived"
    assert "archived" in alice.page.inner_text("#history")
    screenshot(alice.page, "memory")
    alice.page.goto(f"/console/cubes/{cube}?q=Which+hospital+does+Alice+work+at")
    assert "Santa Maria" not in alice.page.inner_text("#hits")
    alice.page.goto(f"/console/cubes/{cube}/memories/{item}")
    alice.page.click("#restore")
    assert alice.page.inner_text("#memory-state") == "activated"


def test_graph_click_opens_the_memory(console, alice):
    cube = console.cubes["alice"]
    alice.page.goto(f"/console/cubes/{cube}/graph?center={console.items['lisbon']}")
    alice.page.wait_for_selector("#graph[data-ready='1']")
    screenshot(alice.page, "graph")
    alice.page.locator("#graph .node.center circle").click()
    alice.page.wait_for_url(re.compile(rf"/memories/{console.items['lisbon']}$"))


def test_foreign_cube_is_not_found_even_typed_by_hand(console, alice):
    bob_cube, bob_item = console.cubes["bob"], console.items["bob"]
    for path in (f"/console/cubes/{bob_cube}", f"/console/cubes/{bob_cube}/memories/{bob_item}",
                 f"/console/cubes/{bob_cube}/kv", f"/console/cubes/{bob_cube}/adapters",
                 f"/console/cubes/{bob_cube}/graph/data?center={bob_item}",
                 f"/console/cubes/{console.cubes['alice']}/memories/{bob_item}"):
        response = alice.page.goto(path)
        assert response.status == 404, path
        assert "4711" not in alice.page.content()


def test_users_page_is_refused_to_a_plain_user(console, alice, admin):
    response = alice.page.goto("/console/users")
    assert response.status == 403
    assert "administrators only" in alice.page.inner_text("#error-message")
    admin.page.goto("/console/users")
    admin.page.fill("#create-key input[name=user_id]", "alice")
    admin.page.click("#create-key button")
    assert admin.page.inner_text("#new-key").startswith("memos_")
    screenshot(admin.page, "users")


def test_form_without_or_with_forged_csrf_token_is_refused(console, alice):
    with session_http(console, alice) as http:
        missing = http.post("/console/cubes", data={"name": "forged"})
        forged = http.post("/console/cubes", data={"name": "forged", "csrf": "x" * 43})
        login = http.post("/console/login", data={"api_key": console.keys["alice"]})
    assert (missing.status_code, forged.status_code, login.status_code) == (403, 403, 403)
    assert "security token" in missing.text
    assert "forged" not in {c.name for c in console.mos.list_cubes("alice")}


def test_bad_input_gets_a_readable_message(console, alice):
    cube = console.cubes["alice"]
    alice.page.goto(f"/console/cubes/{cube}")
    alice.page.fill("#delete-confirm", "not the name")
    response_page = alice.page
    with response_page.expect_response(re.compile(r"/delete$")) as answer:
        alice.page.click("#delete-cube button")
    assert answer.value.status == 400
    assert "type the cube's name" in alice.page.inner_text("#error-message")
    response = alice.page.goto(f"/console/cubes/{cube}?page_no=x")
    assert response.status == 400 and "page_no" in alice.page.inner_text("#error-message")


def test_create_and_delete_a_cube(console, alice):
    alice.page.goto("/console/")
    alice.page.fill("#cube-name", "scratch")
    alice.page.click("#create-cube button")
    alice.page.fill("#memory-text", "A throwaway note.")
    alice.page.click("#add-memory button")
    assert alice.page.inner_text("#memory-body") == "A throwaway note."
    alice.page.click("nav.tabs a >> nth=0")
    alice.page.fill("#delete-confirm", "scratch")
    alice.page.click("#delete-cube button")
    assert "scratch" not in alice.page.inner_text("#cubes")


def test_admin_warms_and_evicts_a_kv_entry(console, admin):
    cube = console.cubes["alice"]
    admin.page.goto(f"/console/cubes/{cube}/kv")
    admin.page.fill("#warm-ids", console.items["lisbon"])
    admin.page.click("#warm button")
    assert admin.page.locator(".kv-entry").count() >= 1
    screenshot(admin.page, "kv")
    before = admin.page.locator(".kv-entry").count()
    admin.page.locator(".kv-entry .evict").first.click()
    assert admin.page.locator(".kv-entry").count() == before - 1


def test_start_and_cancel_a_distillation_job(console, alice):
    alice.page.goto(f"/console/cubes/{console.cubes['alice']}/adapters")
    headers = alice.page.inner_text("#adapters thead")
    assert "Evidence" in headers and "Shard" in headers and "Final loss" in headers
    alice.page.click("#distill button")
    assert alice.page.inner_text(".job-state") == "pending"
    screenshot(alice.page, "jobs")
    alice.page.click(".job .cancel")
    assert alice.page.inner_text(".job-state") == "cancelled"


def test_logout_ends_the_session(console, browser):
    tab = open_tab(browser, console, "bob")
    with session_http(console, tab) as http:
        tab.page.click("#logout")
        tab.page.wait_for_url("**/console/login")
        after = http.get("/console/")
    assert after.status_code == 303 and after.headers["location"] == "/console/login"
    tab.context.close()


def test_chat_playground_streams_and_shows_the_memories_used(console, alice):
    alice.page.goto("/console/chat")
    alice.page.fill("#chat-question", "Where does Alice live?")
    alice.page.check(f"input[name=cube_ids][value='{console.cubes['alice']}']")
    alice.page.fill("input[name=max_new_tokens]", "4")
    with alice.page.expect_response("**/console/chat/stream") as streamed:
        alice.page.click("#chat-ask")
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    alice.page.wait_for_selector("#chat-stats:has-text('time to first token')")
    assert "Lisbon" in alice.page.inner_text("#chat-memories")
    assert "time to first token" in alice.page.inner_text("#chat-stats")
    screenshot(alice.page, "chat")


def test_metrics_page_is_for_admins_and_plots_latency(console, alice, admin):
    assert alice.page.goto("/console/metrics").status == 403
    admin.page.goto("/console/metrics")
    assert admin.page.locator("#latency-bars rect").count() >= 1
    assert "hit rate" in admin.page.inner_text("#kv-hit-rate")


def test_memories_filter_by_time_as_of_and_supersession(console, alice):
    cube = console.mos.create_cube("alice-times", owner="alice")
    old = cube.add("Alice drinks green tea every morning.",
                   event_time=datetime(2020, 3, 1, tzinfo=UTC))
    cube.add_many([{"text": "Alice switched to mint tea.", "supersedes": old.id,
                    "event_time": datetime(2024, 6, 1, tzinfo=UTC)}])
    base = f"/console/cubes/{cube.id}"

    def listed(query: str) -> str:
        assert alice.page.goto(f"{base}?{query}").status == 200
        return alice.page.inner_text("#memories")

    assert "green" in listed("") and "mint" in listed("")
    assert "green" not in listed("current_only=1") and "mint" in listed("current_only=1")
    assert "mint" not in listed("event_before=2022-01-01T00:00") and "green" in listed(
        "event_before=2022-01-01T00:00")
    as_of_2021 = listed("as_of=2021-01-01T00:00")
    assert "green" in as_of_2021 and "mint" not in as_of_2021
    assert "No memories here" in listed("written_after=2999-01-01T00:00")
    alice.page.goto(base)
    alice.page.click(".time-filters summary")
    alice.page.fill("#as-of", "2025-01-01T00:00:00")
    alice.page.fill("#search-q", "What tea does Alice drink?")
    alice.page.click("#search-go")
    hits = alice.page.inner_text("#hits")
    assert "mint" in hits and "green" not in hits
    assert alice.page.input_value("#as-of").startswith("2025-01-01T00:00")
    screenshot(alice.page, "filters")
    response = alice.page.goto(f"{base}?written_after=yesterday")
    assert response.status == 400 and "written_after" in alice.page.inner_text("#error-message")


def test_graph_draws_the_entities_a_note_mentions(console, alice):
    cube, lisbon = console.cubes["alice"], console.items["lisbon"]
    alice.page.goto(f"/console/cubes/{cube}/graph?center={lisbon}&hops=1")
    alice.page.wait_for_selector("#graph[data-ready='1']")
    entity = alice.page.locator("#graph .entity[data-id='entity:lisbon']")
    assert entity.count() == 1 and entity.locator("rect").count() == 1
    assert alice.page.locator("#graph .edge.mentions").count() >= 1
    entity.dispatch_event("click")  # nodes may overlap; the handler is the point
    alice.page.wait_for_url(re.compile(r"\?q=lisbon$"))
    assert "Lisbon" in alice.page.inner_text("#hits")
    alice.page.goto(f"/console/cubes/{cube}/graph?center={lisbon}&entities=false")
    alice.page.wait_for_selector("#graph[data-ready='1']")
    assert alice.page.locator("#graph .entity").count() == 0


def test_metrics_page_plots_per_minute_samples(console, admin):
    admin.page.goto(f"/console/cubes/{console.cubes['alice']}")
    admin.page.goto("/console/metrics")
    admin.page.wait_for_selector(".plots[data-ready='1']")
    assert admin.page.locator("#plot-p50 circle.point").count() >= 1
    assert admin.page.locator("#plot-p95 .legend").count() >= 1
    chats = console.mos.engine.counters.as_dict()["first_tokens"]
    assert (admin.page.locator("#plot-ttft circle.point").count() >= 1) == (chats > 0)
    assert admin.page.locator("#plot-kv").count() == 1
    series = admin.page.request.get(f"{console.url}/console/metrics/series").json()
    assert series["routes"] and all("p95_s" in row for s in series["samples"]
                                    for row in s["routes"].values())
    screenshot(admin.page, "metrics")


def test_kv_page_pages_through_the_chunks(console, admin):
    cube = console.cubes["alice"]
    admin.page.goto(f"/console/cubes/{cube}/kv")
    admin.page.fill("#warm-ids", f"{console.items['lisbon']} {console.items['nurse']}")
    admin.page.click("#warm button")
    total = len(console.mos.activation.entries(cube))
    assert total >= 2
    admin.page.goto(f"/console/cubes/{cube}/kv?per_page=1")
    first = admin.page.locator(".kv-entry code").inner_text()
    assert admin.page.locator(".kv-entry").count() == 1
    assert f"page 1 of {total}" in admin.page.inner_text("#kv-pager")
    admin.page.click("#kv-next")
    assert admin.page.locator(".kv-entry").count() == 1
    assert admin.page.locator(".kv-entry code").inner_text() != first
    assert admin.page.locator("#kv-prev").count() == 1
    response = admin.page.goto(f"/console/cubes/{cube}/kv?per_page=0")
    assert response.status == 400 and "per_page" in admin.page.inner_text("#error-message")
