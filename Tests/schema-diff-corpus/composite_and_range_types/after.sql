CREATE TYPE pair AS (a int, b text COLLATE "C");
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TYPE timespan AS RANGE (subtype = timestamptz, multirange_type_name = timespans);
CREATE TABLE readings (id int PRIMARY KEY, p pair, r floatrange, w timespan, ws timespans, ps pair[]);
CREATE FUNCTION pair_label(p pair) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p.b || ':' || p.a $$;
CREATE FUNCTION make_pair(a int) RETURNS pair LANGUAGE sql IMMUTABLE RETURN ROW(a, 'x')::pair;
INSERT INTO readings VALUES (1, ROW(1, 'a'), '[1.5,2.5)', '[2024-01-01,2024-02-01)', '{[2024-01-01,2024-02-01)}', ARRAY[ROW(2, 'b')::pair]);
