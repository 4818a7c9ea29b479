CREATE TABLE parent (id integer, a text);
CREATE TABLE child (b text, extra integer) INHERITS (parent);
CREATE TABLE other (id integer, a text) INHERITS (parent);
INSERT INTO child VALUES (1, 'a', 'b', 2);
