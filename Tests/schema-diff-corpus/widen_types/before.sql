CREATE TABLE t (id integer PRIMARY KEY, code varchar(20), ratio real, amount numeric(8,2));
