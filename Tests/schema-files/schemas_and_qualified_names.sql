-- greyoak-test: --schema archive --schema public
-- Other schemas, extensions in a schema of their own, and names qualified with public.
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA extensions;
CREATE SCHEMA archive;
CREATE TABLE archive.old_items (id integer PRIMARY KEY, body text);
CREATE TABLE public.items (id integer PRIMARY KEY, attrs extensions.hstore, archived_id integer REFERENCES archive.old_items);
CREATE VIEW public.item_bodies AS SELECT i.id, o.body FROM public.items i JOIN archive.old_items o ON o.id = i.archived_id;
CREATE FUNCTION public.item_count() RETURNS bigint LANGUAGE sql STABLE AS $$SELECT count(*) FROM public.items$$;
SET search_path TO archive, public;
CREATE TABLE archive_notes (id integer);
RESET search_path;
CREATE TABLE public.notes (id integer PRIMARY KEY, item_id integer REFERENCES public.items ON UPDATE CASCADE);
CREATE INDEX ON public.notes (item_id);
