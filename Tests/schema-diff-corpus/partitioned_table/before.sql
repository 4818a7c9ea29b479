CREATE TABLE scores (ticker text PRIMARY KEY);
