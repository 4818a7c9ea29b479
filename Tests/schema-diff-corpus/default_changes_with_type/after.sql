CREATE TABLE orders (id integer PRIMARY KEY, qty numeric(10,2) DEFAULT 1.5, status text DEFAULT 'open', code integer DEFAULT 7);
