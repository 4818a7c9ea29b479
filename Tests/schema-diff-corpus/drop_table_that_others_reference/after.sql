CREATE TABLE company (ticker text PRIMARY KEY, sector_id integer);
