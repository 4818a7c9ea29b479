CREATE TABLE scores (ticker text, final_score double precision);
