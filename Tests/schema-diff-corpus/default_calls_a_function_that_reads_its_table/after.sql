-- A cycle in pg_depend: the default calls a function whose SQL-standard body (parsed when
-- it is made, whatever check_function_bodies says) reads the table. The table is made
-- without the default, then the function, then SET DEFAULT; dropped the other way round.
CREATE TABLE other (id integer PRIMARY KEY);
CREATE TABLE tickets (id integer PRIMARY KEY, label text);
CREATE FUNCTION next_ticket() RETURNS integer LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(max(id), 0) + 1 FROM tickets;
END;
ALTER TABLE tickets ALTER COLUMN id SET DEFAULT next_ticket();
INSERT INTO tickets (label) VALUES ('first');
INSERT INTO tickets (label) VALUES ('second');
CREATE VIEW ticket_labels AS SELECT id, label FROM tickets;
