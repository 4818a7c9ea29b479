-- Initial schema with scores table
--
-- Revision ID: 183eb85141bf
-- Revises:
-- Create Date: 2025-10-08 16:42:26.000000

-- migrate:upgrade

CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid');

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
);

CREATE INDEX idx_scores_ticker ON scores (ticker);
CREATE INDEX idx_scores_band ON scores (band);
CREATE INDEX idx_scores_scoring_date ON scores (scoring_date);
CREATE INDEX idx_scores_mode ON scores (mode);

-- migrate:downgrade

DROP TABLE scores;
DROP TYPE band_enum;
