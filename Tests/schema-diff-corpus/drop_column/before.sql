CREATE TABLE scores (ticker varchar(20) PRIMARY KEY, f_pillar numeric, final_score double precision);
