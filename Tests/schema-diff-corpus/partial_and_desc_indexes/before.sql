CREATE TABLE scores (ticker text, final_score double precision, band text);
CREATE INDEX scores_final ON scores (final_score);
