CREATE TABLE docs (id integer, owner text);
