CREATE TABLE scores (final_score double precision CONSTRAINT final_range CHECK (final_score >= 0 AND final_score <= 100),
    risk double precision CONSTRAINT risk_positive CHECK (risk > 0));
