CREATE TYPE level AS ENUM ('low', 'medium', 'high', 'extreme');
CREATE TABLE t (l level);
