CREATE TABLE watchlist (id integer PRIMARY KEY, ticker text);
