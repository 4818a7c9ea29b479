-- A function whose type is a table's row (made after the table), a view over a
-- materialized view (made after it), a trigger function used by a trigger on the table.
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
CREATE TABLE other (id integer PRIMARY KEY);
CREATE TABLE events (id integer PRIMARY KEY, kind text NOT NULL, updated_at timestamptz);
INSERT INTO events VALUES (1, 'a', now()), (2, 'b', now());
CREATE TRIGGER events_touch BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION recent(n integer) RETURNS SETOF events LANGUAGE sql STABLE AS $$SELECT * FROM events ORDER BY id DESC LIMIT n$$;
CREATE MATERIALIZED VIEW event_kinds AS SELECT kind, count(*) AS n FROM events GROUP BY kind;
CREATE UNIQUE INDEX event_kinds_kind ON event_kinds (kind);
CREATE VIEW busy_kinds AS SELECT kind FROM event_kinds WHERE n > 1;
CREATE VIEW last_events AS SELECT r.id, r.kind FROM recent(5) r JOIN busy_kinds b USING (kind);
COMMENT ON VIEW busy_kinds IS 'kinds seen more than once';
