CREATE TYPE level AS ENUM ('low', 'medium', 'high');
CREATE TABLE t (l level NOT NULL);
