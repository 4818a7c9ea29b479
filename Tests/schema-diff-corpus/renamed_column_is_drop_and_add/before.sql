CREATE TABLE scores (ticker text, sector_z double precision);
