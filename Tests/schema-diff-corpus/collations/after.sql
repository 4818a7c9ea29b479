CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE c (name text COLLATE ci, code text COLLATE "C");
