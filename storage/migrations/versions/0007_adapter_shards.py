"""adapters know their shard (distilled over disjoint groups of notes) and their evidence

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('adapters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shard_group', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('shard', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shards', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('evidence', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('adapters', schema=None) as batch_op:
        for column in ('evidence', 'shards', 'shard', 'shard_group'):
            batch_op.drop_column(column)
