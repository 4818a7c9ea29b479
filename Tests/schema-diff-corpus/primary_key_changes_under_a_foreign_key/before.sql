CREATE TABLE portfolio (id integer PRIMARY KEY, code text NOT NULL);
CREATE TABLE holding (portfolio_id integer REFERENCES portfolio (id), ticker text);
INSERT INTO portfolio VALUES (1, 'core');
INSERT INTO holding VALUES (1, 'AAPL');
