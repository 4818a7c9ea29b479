CREATE DOMAIN percent AS numeric(5,2) DEFAULT 0 NOT NULL CONSTRAINT percent_low CHECK (VALUE >= 0) CONSTRAINT percent_high CHECK (VALUE <= 100);
CREATE TABLE t (share percent, symbol text);
