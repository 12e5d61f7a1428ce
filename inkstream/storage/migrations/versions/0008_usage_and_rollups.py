"""usage and monitoring: usage events, per-minute metric rollups, node status, per-user page quota

Revision ID: 0008
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('daily_page_quota', sa.Integer(), nullable=True))
    op.create_table('usage_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_usage_user_created', 'usage_events', ['user_id', 'created_at'], unique=False)
    op.create_index('ix_usage_created', 'usage_events', ['created_at'], unique=False)
    op.create_table('metric_rollups',
    sa.Column('minute', sa.DateTime(timezone=True), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('minute', 'node', 'name')
    )
    op.create_table('node_status',
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('open_streams', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('node')
    )


def downgrade() -> None:
    op.drop_table('node_status')
    op.drop_table('metric_rollups')
    op.drop_index('ix_usage_created', table_name='usage_events')
    op.drop_index('ix_usage_user_created', table_name='usage_events')
    op.drop_table('usage_events')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('daily_page_quota')
