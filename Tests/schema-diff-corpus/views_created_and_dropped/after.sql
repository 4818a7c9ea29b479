CREATE TABLE scores (ticker text, band text, final_score double precision);
CREATE TABLE watchlist (ticker text PRIMARY KEY);
CREATE VIEW strong_buys AS SELECT ticker, final_score FROM scores WHERE band = 'Strong Buy';
CREATE VIEW watched_strong_buys AS SELECT s.ticker, s.final_score FROM strong_buys s JOIN watchlist w USING (ticker);
