CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE child (id integer PRIMARY KEY, parent_id bigint REFERENCES parent (id));
