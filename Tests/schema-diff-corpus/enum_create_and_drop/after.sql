CREATE TYPE mode_enum AS ENUM ('Investor', 'Trader');
CREATE TABLE t (id integer, mode mode_enum NOT NULL DEFAULT 'Investor');
