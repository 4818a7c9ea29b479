CREATE TABLE t (ticker varchar(20) NOT NULL, scoring_date timestamp NOT NULL, mode varchar(20) NOT NULL);
