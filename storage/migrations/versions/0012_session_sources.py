"""sessions: the cubes whose memories each conversation was given

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'session_sources',
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('cube_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'cube_id'),
    )
    op.create_index('ix_session_sources_cube_id', 'session_sources', ['cube_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_session_sources_cube_id', table_name='session_sources')
    op.drop_table('session_sources')
