CREATE TYPE band_enum AS ENUM ('Buy', 'Hold', 'Avoid');
CREATE TABLE scores (band band_enum DEFAULT 'Hold');
