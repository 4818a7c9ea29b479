CREATE TABLE t (id integer CONSTRAINT t_pkey PRIMARY KEY, note text);
CREATE SEQUENCE s;
CREATE INDEX t_note ON t (note);
CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$SELECT a + 1$$;
