CREATE TABLE t (id serial PRIMARY KEY, body text);
