"""short key prefixes: keys once stored their first 12 characters; keep at most 4 more than
the memos_ marker (2 of keys without it, whose length is no longer known)

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE api_keys SET prefix = CASE WHEN prefix LIKE 'memos\\_%' ESCAPE '\\' "
               "THEN substr(prefix, 1, 10) ELSE substr(prefix, 1, 2) END")


def downgrade() -> None:
    pass  # the characters dropped are gone: nothing to restore
