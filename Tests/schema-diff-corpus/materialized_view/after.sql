CREATE TABLE s (ticker text, score bigint);
CREATE MATERIALIZED VIEW top AS SELECT ticker, score FROM s WHERE score > 50;
CREATE UNIQUE INDEX top_ticker ON top (ticker);
COMMENT ON MATERIALIZED VIEW top IS 'the best';
