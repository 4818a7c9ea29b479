CREATE TABLE scores (ticker varchar(20) NOT NULL PRIMARY KEY);
CREATE TABLE portfolio (id integer PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE holding (
    portfolio_id integer NOT NULL REFERENCES portfolio (id) ON DELETE CASCADE,
    ticker varchar(20) NOT NULL REFERENCES scores (ticker),
    weight numeric(6,4) NOT NULL CHECK (weight > 0 AND weight <= 1),
    PRIMARY KEY (portfolio_id, ticker)
);
