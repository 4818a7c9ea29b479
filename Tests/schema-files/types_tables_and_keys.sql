-- Types (enums, domains, composite and range types), sequences, tables of every shape, and their keys.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE COLLATION case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TYPE status AS ENUM ('new', 'open', 'closed');
CREATE TYPE "Odd Enum" AS ENUM ('a b', 'it''s');
CREATE DOMAIN positive AS integer NOT NULL DEFAULT 1 CONSTRAINT positive_check CHECK (VALUE > 0);
CREATE DOMAIN email AS citext CHECK (VALUE LIKE '%@%');
CREATE SEQUENCE invoice_numbers AS bigint START WITH 1000 INCREMENT BY 10 CACHE 5 CYCLE;

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email email NOT NULL UNIQUE,
    name text COLLATE case_blind NOT NULL,
    name_upper text GENERATED ALWAYS AS (upper(name)) STORED,
    status status NOT NULL DEFAULT 'new',
    tags text[] DEFAULT '{}',
    odd "Odd Enum",
    score numeric(8, 2) CHECK (score >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_name_trgm ON customers USING gin (name_upper gin_trgm_ops);
CREATE INDEX customers_recent ON customers (created_at DESC) WHERE status <> 'closed';
CREATE UNIQUE INDEX customers_lower_email ON customers (lower(email::text));

CREATE TABLE invoices (
    number bigint PRIMARY KEY DEFAULT nextval('invoice_numbers'),
    customer_id bigint NOT NULL,
    amount positive,
    during tstzrange,
    CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT invoices_no_overlap EXCLUDE USING gist (during WITH &&)
);
ALTER SEQUENCE invoice_numbers OWNED BY invoices.number;
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_small CHECK (amount < 1000000) NOT VALID;

CREATE TABLE "Mixed Case" ("Key" serial PRIMARY KEY, "select" text, parent integer REFERENCES "Mixed Case" ("Key"));

CREATE TABLE measurements (at date NOT NULL, device integer NOT NULL, v double precision) PARTITION BY RANGE (at);
CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
    PARTITION BY LIST (device);
CREATE TABLE measurements_2025_small PARTITION OF measurements_2025 FOR VALUES IN (1, 2, 3);
CREATE TABLE measurements_rest PARTITION OF measurements DEFAULT;
CREATE INDEX measurements_device ON measurements (device, at);

CREATE TABLE base_log (id integer NOT NULL, at timestamptz DEFAULT now(), CHECK (id > 0) NO INHERIT);
CREATE TABLE error_log (detail text) INHERITS (base_log);
CREATE TABLE uses_pk_index (id integer NOT NULL, code text NOT NULL);
CREATE UNIQUE INDEX uses_pk_index_idx ON uses_pk_index (id);
ALTER TABLE uses_pk_index ADD CONSTRAINT uses_pk_index_pkey PRIMARY KEY USING INDEX uses_pk_index_idx DEFERRABLE;

-- Composite and range types: made after the collation, domain and enum they use, before the
-- table and function that use them.
CREATE TYPE address AS (street text COLLATE case_blind, zip positive, state status, "Odd" "Odd Enum"[]);
CREATE TYPE textspan AS RANGE (subtype = text, collation = "C", multirange_type_name = textspans);
CREATE TYPE "Float Range" AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TABLE shipments (id integer PRIMARY KEY, "to" address, names textspan, weights "Float Range", spans textspans);
CREATE FUNCTION street_of(a address) RETURNS text LANGUAGE sql IMMUTABLE RETURN (a).street;
