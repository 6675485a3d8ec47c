"""assessment: weight sets, targets, temporary tasks, publications and scorecards

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Performance assessment (绩效考核, issue 15): the weight sets an administrator keeps per
level and period kind (versioned by the day they start), each manager's targets and
temporary tasks per period, the publications of a team's period (who, when, why), and
the scorecards: drafts recomputed until published, then frozen with their publication.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_assessment_publications_published_by_id_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_assessment_publications_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_publications')),
    sa.UniqueConstraint('period', 'team_id', 'number', name=op.f('uq_assessment_publications_period_team_id_number'))
    )
    op.create_table('assessment_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('indicator', sa.String(length=4), nullable=False),
    sa.Column('part', sa.String(length=20), nullable=False),
    sa.Column('target', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('share', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_assessment_targets_set_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assessment_targets_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_targets')),
    sa.UniqueConstraint('user_id', 'period', 'indicator', 'part', name=op.f('uq_assessment_targets_user_id_period_indicator_part'))
    )
    with op.batch_alter_table('assessment_targets', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_targets_period', ['period'], unique=False)

    op.create_table('assessment_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('scored_by_id', sa.Integer(), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scored_by_id'], ['users.id'], name=op.f('fk_assessment_tasks_scored_by_id_users')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_assessment_tasks_set_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assessment_tasks_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_tasks'))
    )
    with op.batch_alter_table('assessment_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_tasks_period_user_id', ['period', 'user_id'], unique=False)

    op.create_table('assessment_weight_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('junior', 'intermediate', 'senior', name='level', native_enum=False, length=20), nullable=False),
    sa.Column('period_kind', sa.Enum('month', 'quarter', name='periodkind', native_enum=False, length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('task_weight', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assessment_weight_sets_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_weight_sets')),
    sa.UniqueConstraint('level', 'period_kind', 'starts_on', name=op.f('uq_assessment_weight_sets_level_period_kind_starts_on'))
    )
    op.create_table('assessment_scorecards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.Enum('junior', 'intermediate', 'senior', name='level', native_enum=False, length=20), nullable=False),
    sa.Column('weight_set_id', sa.Integer(), nullable=True),
    sa.Column('kpi_points', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('task_points', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('sheet', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['assessment_publications.id'], name=op.f('fk_assessment_scorecards_publication_id_assessment_publications')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_assessment_scorecards_team_id_teams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assessment_scorecards_user_id_users')),
    sa.ForeignKeyConstraint(['weight_set_id'], ['assessment_weight_sets.id'], name=op.f('fk_assessment_scorecards_weight_set_id_assessment_weight_sets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scorecards'))
    )
    with op.batch_alter_table('assessment_scorecards', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_scorecards_period_publication_id_user_id', ['period', 'publication_id', 'user_id'], unique=False)
        batch_op.create_index('ix_assessment_scorecards_publication_id', ['publication_id'], unique=False)
        batch_op.create_index('ix_assessment_scorecards_user_id_period', ['user_id', 'period'], unique=False)

    op.create_table('assessment_weights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('weight_set_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=4), nullable=False),
    sa.Column('weight', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('marking', sa.Enum('key', 'secondary', 'not_assessed', name='marking', native_enum=False, length=20), nullable=False),
    sa.Column('method', sa.Enum('target', 'ranking', name='scoringmethod', native_enum=False, length=10), nullable=False),
    sa.Column('cap', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('floor', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('default_target', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('per_unit', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['weight_set_id'], ['assessment_weight_sets.id'], name=op.f('fk_assessment_weights_weight_set_id_assessment_weight_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_weights')),
    sa.UniqueConstraint('weight_set_id', 'indicator', name=op.f('uq_assessment_weights_weight_set_id_indicator'))
    )


def downgrade():
    op.drop_table('assessment_weights')
    with op.batch_alter_table('assessment_scorecards', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_scorecards_user_id_period')
        batch_op.drop_index('ix_assessment_scorecards_publication_id')
        batch_op.drop_index('ix_assessment_scorecards_period_publication_id_user_id')

    op.drop_table('assessment_scorecards')
    op.drop_table('assessment_weight_sets')
    with op.batch_alter_table('assessment_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_tasks_period_user_id')

    op.drop_table('assessment_tasks')
    with op.batch_alter_table('assessment_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_targets_period')

    op.drop_table('assessment_targets')
    op.drop_table('assessment_publications')
