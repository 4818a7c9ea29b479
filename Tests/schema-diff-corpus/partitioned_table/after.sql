CREATE TABLE scores (ticker text PRIMARY KEY);
CREATE TABLE score_history (
    ticker text NOT NULL REFERENCES scores (ticker),
    scoring_date date NOT NULL,
    final_score double precision,
    PRIMARY KEY (ticker, scoring_date)
) PARTITION BY RANGE (scoring_date);
CREATE INDEX score_history_final ON score_history (final_score DESC);
