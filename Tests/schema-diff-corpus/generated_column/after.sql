CREATE TABLE t (a integer, b integer, total integer GENERATED ALWAYS AS (a * b) STORED, half numeric GENERATED ALWAYS AS (a / 2.0) STORED);
