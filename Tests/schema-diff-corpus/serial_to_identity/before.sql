CREATE TABLE t (id serial PRIMARY KEY, body text);
INSERT INTO t (body) VALUES ('one'), ('two'), ('three');
