"""job leases: the worker process holding a running job, and until when

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('lease_until', storage.schema.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lease_owner')
