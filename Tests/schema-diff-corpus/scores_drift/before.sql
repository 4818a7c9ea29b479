CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid');
CREATE TABLE scores (
    ticker VARCHAR(20) NOT NULL,
    scoring_date TIMESTAMP NOT NULL,
    mode VARCHAR(20) NOT NULL,
    final_score FLOAT,
    band band_enum,
    created_at TIMESTAMP DEFAULT NOW(),
    PRIMARY KEY (ticker, scoring_date, mode)
);
CREATE INDEX idx_scores_band ON scores (band);
INSERT INTO scores (ticker, scoring_date, mode, final_score, band) VALUES ('AAPL', '2025-10-08', 'Investor', 71.5, 'Buy');
