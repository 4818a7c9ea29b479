CREATE TYPE band_enum AS ENUM ('Buy', 'Hold', 'Sell', 'Avoid');
CREATE TABLE scores (ticker text, band band_enum DEFAULT 'Buy', previous band_enum);
CREATE INDEX scores_band ON scores (band);
