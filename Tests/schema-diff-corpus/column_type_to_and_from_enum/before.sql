CREATE TYPE band_enum AS ENUM ('Buy', 'Hold');
CREATE TABLE t (band varchar(20), kind band_enum DEFAULT 'Hold');
INSERT INTO t VALUES ('Buy', 'Hold'), (NULL, 'Buy');
