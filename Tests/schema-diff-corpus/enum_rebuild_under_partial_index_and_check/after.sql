CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Avoid');
CREATE TABLE scores (ticker text, band band_enum, final_score double precision,
    CONSTRAINT strong_needs_score CHECK (band <> 'Strong Buy' OR final_score >= 80));
CREATE INDEX scores_buys ON scores (ticker) WHERE band = 'Buy';
