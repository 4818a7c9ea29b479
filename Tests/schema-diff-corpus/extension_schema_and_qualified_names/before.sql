CREATE SCHEMA audit;
CREATE TABLE public.a (id integer);
CREATE TABLE audit.log (at timestamptz);
