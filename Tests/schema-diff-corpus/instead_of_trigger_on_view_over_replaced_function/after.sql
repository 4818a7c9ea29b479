-- The function's result type changes, which CREATE OR REPLACE cannot do: it is dropped and
-- made again, and so is the view that calls it, and the unchanged INSTEAD OF trigger on it.
CREATE TABLE t (id integer PRIMARY KEY, v integer);
INSERT INTO t VALUES (1, 10);
CREATE FUNCTION scaled(x integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$SELECT x::bigint * 2$$;
CREATE VIEW tv AS SELECT id, scaled(v) AS s FROM t;
CREATE FUNCTION tv_insert() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO t VALUES (NEW.id, NEW.s); RETURN NEW; END$$;
CREATE TRIGGER tv_insert INSTEAD OF INSERT ON tv FOR EACH ROW EXECUTE FUNCTION tv_insert();
