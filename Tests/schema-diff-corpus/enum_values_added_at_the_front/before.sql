CREATE TYPE level AS ENUM ('high');
CREATE TABLE t (l level);
INSERT INTO t VALUES ('high');
