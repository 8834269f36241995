"""cached 体检 (health check) reports, one per set of rounds

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('health_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_key', sa.String(length=200), nullable=False),
    sa.Column('round_ids', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_report')),
    sa.UniqueConstraint('round_key', name=op.f('uq_health_report_round_key'))
    )


def downgrade():
    op.drop_table('health_report')
