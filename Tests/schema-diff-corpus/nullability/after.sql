CREATE TABLE t (a integer, b integer NOT NULL);
