CREATE TABLE people (id integer PRIMARY KEY, email text);
INSERT INTO people VALUES (1, 'Ann@Example.org');
