CREATE TABLE s (ticker text, score integer);
