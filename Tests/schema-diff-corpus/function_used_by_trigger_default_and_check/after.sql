CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE FUNCTION default_name() RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'unnamed'$$;
CREATE FUNCTION is_short(t text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog AS $$SELECT length(t) < 100$$;
CREATE TABLE items (id integer PRIMARY KEY, name text DEFAULT default_name() CHECK (is_short(name)), updated_at timestamptz);
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON FUNCTION touch() IS 'sets updated_at';
