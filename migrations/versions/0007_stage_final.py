"""the on-stage 决赛: final, final_team, final_question and the append-only final_event log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('final',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('base_score', sa.Integer(), nullable=False),
    sa.Column('screen_token', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_final_round_id_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_final')),
    sa.UniqueConstraint('round_id', name=op.f('uq_final_round_id')),
    sa.UniqueConstraint('screen_token', name=op.f('uq_final_screen_token'))
    )
    op.create_table('final_team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('final_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['final_id'], ['final.id'], name=op.f('fk_final_team_final_id_final')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_final_team_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_final_team_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_final_team')),
    sa.UniqueConstraint('final_id', 'team_id', name=op.f('uq_final_team_final_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_final_team_user_id'))
    )
    op.create_index(op.f('ix_final_team_final_id'), 'final_team', ['final_id'], unique=False)
    op.create_table('final_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('final_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=16), nullable=False),
    sa.Column('final_team_id', sa.Integer(), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['final_id'], ['final.id'], name=op.f('fk_final_question_final_id_final')),
    sa.ForeignKeyConstraint(['final_team_id'], ['final_team.id'], name=op.f('fk_final_question_final_team_id_final_team')),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_final_question_question_id_question')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_final_question')),
    sa.UniqueConstraint('final_id', 'position', name=op.f('uq_final_question_final_id'))
    )
    op.create_index(op.f('ix_final_question_final_id'), 'final_question', ['final_id'], unique=False)
    op.create_table('final_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('final_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('mono_ns', sa.BigInteger(), nullable=True),
    sa.Column('boot', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_final_event_actor_id_user')),
    sa.ForeignKeyConstraint(['final_id'], ['final.id'], name=op.f('fk_final_event_final_id_final')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_final_event')),
    sa.UniqueConstraint('final_id', 'seq', name=op.f('uq_final_event_final_id'))
    )
    op.create_index(op.f('ix_final_event_final_id'), 'final_event', ['final_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_final_event_final_id'), table_name='final_event')
    op.drop_table('final_event')
    op.drop_index(op.f('ix_final_question_final_id'), table_name='final_question')
    op.drop_table('final_question')
    op.drop_index(op.f('ix_final_team_final_id'), table_name='final_team')
    op.drop_table('final_team')
    op.drop_table('final')
