CREATE TABLE scores (ticker varchar(20), scoring_date timestamp, mode varchar(20), PRIMARY KEY (ticker, scoring_date, mode));
CREATE TABLE sector (id integer PRIMARY KEY, parent_id integer REFERENCES sector (id) DEFERRABLE INITIALLY DEFERRED, name text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (parent_id, name));
CREATE TABLE score_review (
    ticker varchar(20), scoring_date timestamp, mode varchar(20),
    reviewer text NOT NULL,
    FOREIGN KEY (ticker, scoring_date, mode) REFERENCES scores ON UPDATE CASCADE ON DELETE CASCADE,
    EXCLUDE USING btree (ticker WITH =, reviewer WITH =)
);
CREATE INDEX score_review_covering ON score_review (ticker) INCLUDE (reviewer);
