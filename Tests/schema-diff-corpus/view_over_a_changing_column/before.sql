CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Avoid');
CREATE TABLE scores (ticker varchar(20), band band_enum, final_score real, note text);
CREATE VIEW latest AS SELECT ticker, band, final_score FROM scores;
CREATE VIEW strong AS SELECT ticker FROM latest WHERE band = 'Strong Buy';
CREATE VIEW notes AS SELECT ticker, note FROM scores;
INSERT INTO scores VALUES ('AAA', 'Buy', 50, 'x');
