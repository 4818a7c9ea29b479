"""Initial schema with scores table

Revision ID: 183eb85141bf
Revises: 
Create Date: 2025-10-08 16:42:26.000000

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "183eb85141bf"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The same statements as migrations/183eb85141bf_initial_schema_with_scores_table.sql,
# so Alembic and greyoak build byte-for-byte the same schema. (The original Python
# migration created band_enum twice and left out the DEFAULT NOW() columns.)


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid')")
    op.execute(
        """
        CREATE TABLE scores (
            ticker VARCHAR(20) NOT NULL,
            scoring_date TIMESTAMP NOT NULL,
            mode VARCHAR(20) NOT NULL,
            f_score FLOAT,
            t_score FLOAT,
            r_score FLOAT,
            o_score FLOAT,
            q_score FLOAT,
            s_score FLOAT,
            weighted_score FLOAT,
            risk_penalty FLOAT,
            final_score FLOAT,
            band band_enum,
            guardrails VARCHAR(500),
            as_of TIMESTAMP,
            f_z FLOAT,
            t_z FLOAT,
            r_z FLOAT,
            o_z FLOAT,
            q_z FLOAT,
            s_z FLOAT,
            created_at TIMESTAMP DEFAULT NOW(),
            updated_at TIMESTAMP DEFAULT NOW(),
            PRIMARY KEY (ticker, scoring_date, mode)
        )
        """
    )
    op.execute("CREATE INDEX idx_scores_ticker ON scores (ticker)")
    op.execute("CREATE INDEX idx_scores_band ON scores (band)")
    op.execute("CREATE INDEX idx_scores_scoring_date ON scores (scoring_date)")
    op.execute("CREATE INDEX idx_scores_mode ON scores (mode)")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE scores")
    op.execute("DROP TYPE band_enum")
