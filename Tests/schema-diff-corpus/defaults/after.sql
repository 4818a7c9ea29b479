CREATE TABLE t (a integer DEFAULT 2, b text DEFAULT 'none', c timestamp, d boolean DEFAULT false);
