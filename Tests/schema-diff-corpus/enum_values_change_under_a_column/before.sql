CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid');
CREATE TABLE scores (ticker text, band band_enum DEFAULT 'Hold', previous band_enum);
CREATE INDEX scores_band ON scores (band);
INSERT INTO scores (ticker, band, previous) VALUES ('AAA', 'Buy', 'Hold'), ('BBB', DEFAULT, NULL), ('CCC', 'Avoid', 'Buy');
