-- Functions, procedures, triggers, views, materialized views, row-level security, grants
-- and comments, and the dependencies between them.
CREATE TABLE accounts (id integer PRIMARY KEY, owner name NOT NULL DEFAULT current_user, balance numeric NOT NULL DEFAULT 0,
                       updated_at timestamptz);
CREATE TABLE ledger (id bigserial PRIMARY KEY, account_id integer NOT NULL REFERENCES accounts, delta numeric NOT NULL);

CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE FUNCTION is_owner(owner name) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
    AS $$SELECT owner = current_user$$;
CREATE FUNCTION balance_of(account accounts) RETURNS numeric LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT account.balance + coalesce((SELECT sum(delta) FROM ledger WHERE account_id = account.id), 0);
END;
CREATE FUNCTION richest(n integer DEFAULT 3) RETURNS SETOF accounts LANGUAGE sql STABLE ROWS 10
    AS $$SELECT * FROM accounts ORDER BY balance DESC LIMIT n$$;
CREATE PROCEDURE settle(account integer) LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET balance = balance + (SELECT coalesce(sum(delta), 0) FROM ledger WHERE account_id = account) WHERE id = account;
    DELETE FROM ledger WHERE account_id = account;
END
$$;
CREATE FUNCTION ledger_check() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;

CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE CONSTRAINT TRIGGER ledger_settled AFTER INSERT ON ledger DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check();
CREATE TRIGGER ledger_audit AFTER DELETE ON ledger FOR EACH STATEMENT EXECUTE FUNCTION ledger_check();
ALTER TABLE ledger DISABLE TRIGGER ledger_audit;

CREATE VIEW account_balances AS SELECT a.id, balance_of(a) AS balance FROM accounts a;
CREATE VIEW big_balances AS SELECT id, balance FROM account_balances WHERE balance > 1000;
CREATE FUNCTION big_balances_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO accounts (id, balance) VALUES (NEW.id, NEW.balance);
    RETURN NEW;
END
$$;
CREATE TRIGGER big_balances_insert INSTEAD OF INSERT ON big_balances FOR EACH ROW EXECUTE FUNCTION big_balances_insert();
CREATE MATERIALIZED VIEW top_accounts AS SELECT id, balance FROM richest(10);
CREATE UNIQUE INDEX top_accounts_id ON top_accounts (id);
CREATE VIEW top_ids AS SELECT id FROM top_accounts;

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON accounts FOR ALL TO PUBLIC USING (is_owner(owner)) WITH CHECK (is_owner(owner));
CREATE POLICY monitors_read ON accounts AS RESTRICTIVE FOR SELECT TO pg_monitor USING (true);

GRANT SELECT ON account_balances, big_balances TO pg_monitor;
GRANT SELECT (id, balance), UPDATE (balance) ON accounts TO pg_read_all_data;
GRANT USAGE ON SEQUENCE ledger_id_seq TO pg_monitor;
REVOKE EXECUTE ON FUNCTION is_owner(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION is_owner(name) TO pg_monitor;
GRANT EXECUTE ON PROCEDURE settle(integer) TO pg_monitor WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pg_monitor;

COMMENT ON TABLE accounts IS 'one row per account';
COMMENT ON COLUMN accounts.balance IS 'settled balance';
COMMENT ON FUNCTION touch() IS 'sets updated_at';
COMMENT ON PROCEDURE settle(integer) IS 'moves the ledger into the balance';
COMMENT ON VIEW big_balances IS 'over 1000';
COMMENT ON MATERIALIZED VIEW top_accounts IS 'refreshed nightly';
COMMENT ON TRIGGER accounts_touch ON accounts IS 'keeps updated_at';
COMMENT ON POLICY own_rows ON accounts IS 'owners see their rows';
COMMENT ON CONSTRAINT accounts_pkey ON accounts IS 'the key';
COMMENT ON INDEX top_accounts_id IS 'for REFRESH CONCURRENTLY';
