CREATE TABLE t (a integer DEFAULT 1, b text, c timestamp DEFAULT now(), d boolean DEFAULT false);
