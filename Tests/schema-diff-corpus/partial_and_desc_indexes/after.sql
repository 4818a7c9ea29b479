CREATE TABLE scores (ticker text, final_score double precision, band text);
CREATE INDEX scores_final ON scores (final_score DESC NULLS LAST);
CREATE INDEX scores_strong ON scores (ticker) WHERE band = 'Strong Buy';
CREATE UNIQUE INDEX scores_ticker_band ON scores (ticker, band DESC);
