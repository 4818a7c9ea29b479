-- The kind order makes domains before extensions and functions, and drops them before
-- functions: this domain needs an extension's type and a function, and a function and a
-- view need the domain.
CREATE EXTENSION citext;
CREATE FUNCTION is_email(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT $1 LIKE '%@%'$$;
CREATE DOMAIN email AS citext CHECK (is_email(VALUE::text));
CREATE TABLE people (id integer PRIMARY KEY, email email);
INSERT INTO people VALUES (1, 'Ann@Example.org');
CREATE FUNCTION normalized(e email) RETURNS email LANGUAGE sql IMMUTABLE AS $$SELECT lower(e::text)::email$$;
CREATE VIEW people_emails AS SELECT id, normalized(email) AS email FROM people;
