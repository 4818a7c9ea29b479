CREATE TYPE band_enum AS ENUM ('Buy', 'Hold', 'Avoid');
CREATE TABLE scores (ticker text, band band_enum DEFAULT 'Hold');
