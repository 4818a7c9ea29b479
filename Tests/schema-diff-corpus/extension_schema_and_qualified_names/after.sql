CREATE SCHEMA audit;
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;
CREATE TABLE public.a (id integer, handle public.citext);
CREATE TABLE audit.log (at timestamptz, who text);
COMMENT ON TABLE public.a IS 'a table';
