CREATE TYPE pair AS (a int, b text, d numeric(6,2));
CREATE TYPE point3 AS (x bigint, y int, z int);
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TYPE textrange AS RANGE (subtype = text);
CREATE TABLE readings (id int PRIMARY KEY, p pair, t textrange);
CREATE FUNCTION pair_label(p pair) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN p.b || ':' || p.a; END $$;
CREATE FUNCTION norm(p point3) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN p.x + p.y + p.z; END $$;
INSERT INTO readings VALUES (1, ROW(1, 'a', 2.5), '[a,b)');
