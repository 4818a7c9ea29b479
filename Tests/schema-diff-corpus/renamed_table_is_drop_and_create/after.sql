CREATE TABLE watch_list (id integer PRIMARY KEY, ticker text);
