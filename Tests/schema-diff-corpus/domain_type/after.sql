CREATE DOMAIN percent AS numeric(5,2) DEFAULT 0 NOT NULL CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE t (id integer, share percent);
