CREATE TABLE scores (ticker varchar(20), scoring_date timestamp, mode varchar(20), PRIMARY KEY (ticker, scoring_date, mode));
