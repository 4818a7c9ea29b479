CREATE EXTENSION pg_trgm VERSION '1.6';
CREATE TABLE t (name text);
CREATE INDEX t_name_trgm ON t USING gin (name gin_trgm_ops);
