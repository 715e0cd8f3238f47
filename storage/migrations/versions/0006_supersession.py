"""supersession: a note's end of validity and the note that superseded it

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('memory_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column(
            'valid_to', storage.schema.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('memory_items', schema=None) as batch_op:
        batch_op.drop_column('valid_to')
        batch_op.drop_column('superseded_by')
