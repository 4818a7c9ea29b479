CREATE TABLE scores (ticker text, mode text, final_score double precision);
CREATE INDEX scores_mode ON scores (mode);
CREATE INDEX scores_mode_score ON scores (mode, final_score);
