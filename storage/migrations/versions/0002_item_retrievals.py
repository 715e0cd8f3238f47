"""item retrieval log

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('item_retrievals',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('at', storage.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('item_retrievals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_retrievals_at'), ['at'], unique=False)
        batch_op.create_index('ix_retrievals_item_at', ['item_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_retrievals', schema=None) as batch_op:
        batch_op.drop_index('ix_retrievals_item_at')
        batch_op.drop_index(batch_op.f('ix_item_retrievals_at'))

    op.drop_table('item_retrievals')
