CREATE TABLE t (a integer, b integer, c integer, CONSTRAINT t_b_c_key UNIQUE (b, c));
