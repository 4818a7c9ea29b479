CREATE TABLE t (id integer PRIMARY KEY, label varchar(10), ratio real);
