CREATE TABLE keep (id integer PRIMARY KEY);
CREATE TABLE old_stuff (id integer PRIMARY KEY, payload jsonb);
