CREATE TABLE t (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
INSERT INTO t (body) VALUES ('one'), ('two');
