CREATE FUNCTION is_owner(o text) RETURNS boolean LANGUAGE sql STABLE AS $$SELECT o = current_user$$;
CREATE TABLE docs (id integer, owner text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_owner ON docs FOR ALL TO PUBLIC USING (is_owner(owner)) WITH CHECK (is_owner(owner));
CREATE POLICY docs_read ON docs AS RESTRICTIVE FOR SELECT TO pg_monitor USING (id > 0);
