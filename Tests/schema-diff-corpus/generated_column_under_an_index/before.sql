CREATE TABLE scores (f_score double precision, t_score double precision,
    total double precision GENERATED ALWAYS AS (f_score + t_score) STORED,
    CONSTRAINT total_range CHECK (total <= 200));
CREATE INDEX scores_total ON scores (total DESC);
INSERT INTO scores (f_score, t_score) VALUES (50, 60);
