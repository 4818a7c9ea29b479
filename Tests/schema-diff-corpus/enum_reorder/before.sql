CREATE TYPE level AS ENUM ('low', 'high', 'medium');
CREATE TABLE t (l level NOT NULL);
