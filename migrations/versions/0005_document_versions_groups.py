"""document versions of banks (in force or superseded), draw groups of questions, a round's
choice to draw superseded versions or to mix versions of one document

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bank', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('version', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('in_force', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('superseded_by', sa.String(length=64), nullable=True))
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draw_group', sa.String(length=64), nullable=True))
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_superseded', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('allow_mixed_versions', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('allow_mixed_versions')
        batch_op.drop_column('allow_superseded')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('draw_group')
    with op.batch_alter_table('bank', schema=None) as batch_op:
        batch_op.drop_column('superseded_by')
        batch_op.drop_column('in_force')
        batch_op.drop_column('version')
        batch_op.drop_column('document')
