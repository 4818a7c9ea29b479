CREATE TABLE t (id integer PRIMARY KEY, code varchar(20), ratio real, amount numeric(8,2));
INSERT INTO t VALUES (1, 'AAPL', 0.5, 123456.78);
