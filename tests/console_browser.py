"""Helpers of the console's browser tests: seeded users and cubes, logged-in tabs, screenshots."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from memos.kernel import MemOS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ADMIN_KEY = "memos_console-admin-key-0123456789abcdef"
HOSTILE = ["<img src=x onerror=alert(1)> Alice's avatar note",
           "<script>alert(1)</script> Alice keeps scripts in her notes"]
# Set to a folder to keep the screenshots that docs/console.md shows.
SCREENSHOTS = os.environ.get("MEMOS_CONSOLE_SCREENSHOTS")


@dataclass
class Console:
    """The running service, its kernel, and the users' keys and cubes."""

    url: str
    mos: MemOS
    keys: dict[str, str]
    cubes: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)


def seed(mos: MemOS, app) -> tuple[dict, dict, dict]:
    keys = {"admin": ADMIN_KEY}
    for user in ("alice", "bob"):
        app.state.keys.create_user(user)
        keys[user] = app.state.keys.create_key(user, "console")[1]
    alice = mos.create_cube("alice-notes", owner="alice", description="Alice's life")
    bob = mos.create_cube("bob-secret", owner="bob")
    notes = alice.add_many([{"text": "Alice moved to Lisbon in May 2023.", "tags": ["move"]},
                            {"text": "Alice works as a nurse at Santa Maria hospital."},
                            {"text": HOSTILE[0]}, {"text": HOSTILE[1]}])
    secret = bob.add("Bob's locker code is 4711.")
    items = {"lisbon": notes[0].id, "nurse": notes[1].id, "img": notes[2].id,
             "script": notes[3].id, "bob": secret.id}
    return keys, {"alice": alice.id, "bob": bob.id}, items


@dataclass
class Tab:
    """A logged-in browser page that records every dialog it was shown."""

    page: object
    dialogs: list[str]
    context: object


def open_tab(browser, console: Console, user: str) -> Tab:
    """A fresh browser context logged in as ``user``."""
    context = browser.new_context(base_url=console.url)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept() if dialog.type == "confirm" else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto("/console/login")
    page.fill("#api_key", console.keys[user])
    page.click("#login")
    page.wait_for_url("**/console/")
    return Tab(page, dialogs, context)


def screenshot(page, name: str) -> None:
    """Keep a screenshot for the docs when MEMOS_CONSOLE_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
