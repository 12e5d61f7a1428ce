"""post copy and title of a task

Revision ID: 0004
Revises: 0008
Create Date: 2026-11-29 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The post's copy ({status, copy, error, ...}) and the title its owner gave it in the history.
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('post_copy', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('title', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('title')
        batch.drop_column('post_copy')
