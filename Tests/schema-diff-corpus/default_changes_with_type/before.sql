CREATE TABLE orders (id integer PRIMARY KEY, qty integer DEFAULT 0, status varchar(10) DEFAULT 'new', code text DEFAULT '7');
INSERT INTO orders (id) VALUES (1);
INSERT INTO orders (id, qty, status, code) VALUES (2, 5, 'shipped', '42');
