CREATE TABLE scores (ticker text, band text, final_score double precision);
CREATE VIEW old_report AS SELECT ticker FROM scores;
