CREATE TYPE band_enum AS ENUM ('Buy', 'Hold');
CREATE TABLE t (band band_enum, kind text DEFAULT 'Hold');
