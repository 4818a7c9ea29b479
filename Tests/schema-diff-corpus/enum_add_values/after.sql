CREATE TYPE band_enum AS ENUM ('Strong Buy', 'Buy', 'Hold', 'Sell', 'Avoid', 'Strong Avoid');
CREATE TABLE scores (band band_enum DEFAULT 'Hold');
