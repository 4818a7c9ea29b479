CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid', 'Sell');
CREATE TABLE scores (
    ticker VARCHAR(20) NOT NULL,
    scoring_date TIMESTAMP NOT NULL,
    mode VARCHAR(20) NOT NULL,
    final_score FLOAT CONSTRAINT scores_final_range CHECK (final_score BETWEEN 0 AND 100),
    band band_enum,
    created_at TIMESTAMP DEFAULT NOW(),
    confidence FLOAT,
    sector VARCHAR(40),
    PRIMARY KEY (ticker, scoring_date, mode)
);
CREATE INDEX idx_scores_band ON scores (band);
CREATE INDEX idx_scores_final_score ON scores (final_score DESC);
CREATE TABLE score_notes (
    id BIGSERIAL PRIMARY KEY,
    ticker VARCHAR(20) NOT NULL,
    scoring_date TIMESTAMP NOT NULL,
    mode VARCHAR(20) NOT NULL,
    body TEXT NOT NULL,
    FOREIGN KEY (ticker, scoring_date, mode) REFERENCES scores ON DELETE CASCADE
);
