"""prepared papers: every paper of a round drawn when it opens, so that starting is cheap

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('prepared_paper',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('max_score', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_prepared_paper_round_id_round')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_prepared_paper_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_prepared_paper_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prepared_paper')),
    sa.UniqueConstraint('round_id', 'team_id', name='uq_prepared_paper_round_team'),
    sa.UniqueConstraint('round_id', 'user_id', name=op.f('uq_prepared_paper_round_id'))
    )


def downgrade():
    op.drop_table('prepared_paper')
