CREATE TABLE sector (id integer PRIMARY KEY, name text);
CREATE TABLE company (ticker text PRIMARY KEY, sector_id integer REFERENCES sector (id));
CREATE TABLE company_note (ticker text REFERENCES company (ticker), body text);
