CREATE TABLE items (id integer PRIMARY KEY, name text, updated_at timestamptz);
INSERT INTO items VALUES (1, 'one', now());
