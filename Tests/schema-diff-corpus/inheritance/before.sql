CREATE TABLE parent (id integer, a text, b text);
CREATE TABLE child (extra integer) INHERITS (parent);
CREATE TABLE other (id integer, a text, b text);
INSERT INTO child VALUES (1, 'a', 'b', 2);
