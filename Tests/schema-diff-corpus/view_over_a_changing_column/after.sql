CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Avoid');
CREATE TABLE scores (ticker varchar(40), band band_enum, final_score double precision, note text);
CREATE VIEW latest AS SELECT ticker, band, final_score FROM scores;
CREATE VIEW strong AS SELECT ticker FROM latest WHERE band = 'Strong Buy';
CREATE VIEW notes AS SELECT ticker, note FROM scores;
