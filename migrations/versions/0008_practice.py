"""practice (大学习): practice sessions, their items, the 错题本 (Leitner boxes); user.branch (党支部)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch', sa.String(length=100), nullable=True))
    op.create_table('practice_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('document', sa.String(length=100), nullable=True),
    sa.Column('version', sa.String(length=32), nullable=True),
    sa.Column('topic', sa.String(length=100), nullable=True),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('question_count', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_practice_session_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_session')),
    sa.UniqueConstraint('user_id', 'day', name='uq_practice_session_user_day')
    )
    with op.batch_alter_table('practice_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_session_user_id'), ['user_id'], unique=False)
    op.create_table('practice_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_practice_item_question_id_question')),
    sa.ForeignKeyConstraint(['session_id'], ['practice_session.id'], name=op.f('fk_practice_item_session_id_practice_session')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_practice_item_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_item')),
    sa.UniqueConstraint('session_id', 'position', name=op.f('uq_practice_item_session_id'))
    )
    with op.batch_alter_table('practice_item', schema=None) as batch_op:
        batch_op.create_index('ix_practice_item_answered', ['answered_at'], unique=False)
        batch_op.create_index('ix_practice_item_user', ['user_id', 'answered_at'], unique=False)
    op.create_table('practice_mistake',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('qid', sa.String(length=64), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('box', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_practice_mistake_question_id_question')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_practice_mistake_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_mistake')),
    sa.UniqueConstraint('user_id', 'qid', name=op.f('uq_practice_mistake_user_id'))
    )
    with op.batch_alter_table('practice_mistake', schema=None) as batch_op:
        batch_op.create_index('ix_practice_mistake_box', ['user_id', 'box'], unique=False)


def downgrade():
    with op.batch_alter_table('practice_mistake', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_mistake_box')
    op.drop_table('practice_mistake')
    with op.batch_alter_table('practice_item', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_item_user')
        batch_op.drop_index('ix_practice_item_answered')
    op.drop_table('practice_item')
    with op.batch_alter_table('practice_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_session_user_id'))
    op.drop_table('practice_session')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('branch')
