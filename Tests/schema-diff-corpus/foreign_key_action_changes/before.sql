CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer CONSTRAINT child_parent REFERENCES parent (id) ON DELETE CASCADE);
