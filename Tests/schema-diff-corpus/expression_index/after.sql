CREATE TABLE people (id integer PRIMARY KEY, email text);
CREATE UNIQUE INDEX people_email_lower ON people (lower(email));
