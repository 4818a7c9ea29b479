CREATE TABLE readings (id int PRIMARY KEY);
INSERT INTO readings VALUES (1);
