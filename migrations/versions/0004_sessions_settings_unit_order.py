"""session versions (sign-out ends every session), settings kept by the organizer, unit order

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_order', sa.Integer(), nullable=True))
    op.create_table('app_setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_app_setting'))
    )


def downgrade():
    op.drop_table('app_setting')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('sort_order')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
