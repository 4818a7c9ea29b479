-- The lower view changes: the materialized view over it and the view over that are made
-- again, with the index, trigger, grant and comment that hang on them.
CREATE TABLE t (id integer PRIMARY KEY, v integer);
INSERT INTO t VALUES (1, 10), (2, 20);
CREATE VIEW low AS SELECT id, v * 2 AS v FROM t;
CREATE MATERIALIZED VIEW mid AS SELECT id, v FROM low;
CREATE UNIQUE INDEX mid_id ON mid (id);
CREATE VIEW top AS SELECT id, v FROM mid WHERE v > 0;
CREATE FUNCTION top_insert() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO t VALUES (NEW.id, NEW.v); RETURN NEW; END$$;
CREATE TRIGGER top_insert INSTEAD OF INSERT ON top FOR EACH ROW EXECUTE FUNCTION top_insert();
GRANT SELECT ON top TO pg_monitor;
COMMENT ON VIEW top IS 'the top';
