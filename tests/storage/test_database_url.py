"""Where the database lives: SQLite in the home folder, or the URL in MEMOS_DATABASE_URL."""

from __future__ import annotations

from memos.kernel import MemOS


def test_memos_opens_the_database_named_by_the_environment(
        database_url, embedder, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MEMOS_HOME", str(home))
    if database_url is None:
        monkeypatch.delenv("MEMOS_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("MEMOS_DATABASE_URL", database_url)
    with MemOS(embedder=embedder) as mos:
        item = mos.create_cube("env").add("The ferry to Barreiro leaves at midnight.")
        dialect = mos.database.engine.dialect.name
    assert dialect == ("sqlite" if database_url is None else "postgresql")
    assert (home / "memos.db").exists() == (database_url is None)
    with MemOS(embedder=embedder) as again:
        assert again.items.get(item.id).text == "The ferry to Barreiro leaves at midnight."
