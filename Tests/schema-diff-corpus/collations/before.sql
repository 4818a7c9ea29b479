CREATE TABLE c (name text, code text);
