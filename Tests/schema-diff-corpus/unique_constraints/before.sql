CREATE TABLE t (a integer, b integer, c integer, CONSTRAINT t_a_key UNIQUE (a));
