"""items with a time to live: a partial index for the expiry check every read makes

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

WITH_TTL = sa.text("ttl_seconds IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_items_cube_state_ttl', 'memory_items', ['cube_id', 'state'],
                    unique=False, sqlite_where=WITH_TTL, postgresql_where=WITH_TTL)


def downgrade() -> None:
    op.drop_index('ix_items_cube_state_ttl', table_name='memory_items')
