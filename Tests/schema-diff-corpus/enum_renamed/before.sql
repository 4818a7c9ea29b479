CREATE TYPE band AS ENUM ('Buy', 'Hold', 'Avoid');
CREATE TABLE scores (ticker text, band band DEFAULT 'Hold');
INSERT INTO scores VALUES ('AAA', 'Buy');
