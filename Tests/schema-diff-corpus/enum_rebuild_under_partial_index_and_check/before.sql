CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid');
CREATE TABLE scores (ticker text, band band_enum, final_score double precision,
    CONSTRAINT strong_needs_score CHECK (band <> 'Strong Buy' OR final_score >= 80));
CREATE INDEX scores_buys ON scores (ticker) WHERE band = 'Buy';
INSERT INTO scores VALUES ('AAA', 'Strong Buy', 90), ('BBB', 'Buy', 50);
