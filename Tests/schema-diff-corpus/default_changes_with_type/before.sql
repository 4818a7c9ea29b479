CREATE TABLE orders (id integer PRIMARY KEY, qty integer DEFAULT 0, status varchar(10) DEFAULT 'new', code text DEFAULT '7');
