CREATE TYPE band_enum AS ENUM ('Buy', 'Hold', 'Avoid', 'Unrated');
CREATE TABLE scores (ticker text, band band_enum NOT NULL DEFAULT 'Unrated');
