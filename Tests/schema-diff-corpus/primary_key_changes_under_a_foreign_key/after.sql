CREATE TABLE portfolio (id integer, code text NOT NULL, CONSTRAINT portfolio_pkey PRIMARY KEY (id, code), CONSTRAINT portfolio_id_key UNIQUE (id));
CREATE TABLE holding (portfolio_id integer CONSTRAINT holding_portfolio_id_fkey REFERENCES portfolio (id), ticker text);
