"""The ordered migrations build exactly the schema that storage/schema.py declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.database import MIGRATIONS_DIR, Database, sqlite_url
from storage.schema import Base


def migrated(database_url, tmp_path) -> Database:
    database = Database(database_url or sqlite_url(tmp_path))
    database.migrate()
    return database


def test_migrated_database_matches_the_declared_schema(database_url, tmp_path):
    database = migrated(database_url, tmp_path)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    database.close()


def test_migrating_twice_is_a_no_op_at_the_head_revision(database_url, tmp_path):
    database = migrated(database_url, tmp_path)
    database.migrate()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    with database.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
        assert set(inspect(connection).get_table_names()) == {
            *Base.metadata.tables, "alembic_version"}
    database.close()
