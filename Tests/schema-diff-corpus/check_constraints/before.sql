CREATE TABLE scores (final_score double precision CONSTRAINT final_range CHECK (final_score >= 0), risk double precision);
