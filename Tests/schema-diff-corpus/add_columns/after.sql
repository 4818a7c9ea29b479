CREATE TABLE scores (
    ticker varchar(20) PRIMARY KEY,
    final_score double precision,
    confidence numeric(4,3) NOT NULL DEFAULT 0.5,
    note text,
    tags text[] DEFAULT '{}'
);
