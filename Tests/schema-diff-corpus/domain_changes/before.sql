CREATE DOMAIN percent AS numeric(5,2) CONSTRAINT percent_low CHECK (VALUE >= 0);
CREATE DOMAIN ticker AS text;
CREATE TABLE t (share percent, symbol ticker);
INSERT INTO t VALUES (12.5, 'AAPL');
