CREATE TABLE t (a integer, b integer, total integer GENERATED ALWAYS AS (a + b) STORED);
