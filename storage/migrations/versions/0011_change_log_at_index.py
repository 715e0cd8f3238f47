"""change log: an index on the change time, for pruning old changes

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_change_log_at', 'change_log', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_change_log_at', table_name='change_log')
