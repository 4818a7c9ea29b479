CREATE TABLE scores (ticker varchar(20) PRIMARY KEY, final_score double precision);
