CREATE TABLE scores (ticker text, s_z double precision);
