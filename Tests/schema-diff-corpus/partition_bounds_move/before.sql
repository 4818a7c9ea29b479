CREATE TABLE readings (at date NOT NULL, v integer) PARTITION BY RANGE (at);
CREATE TABLE readings_h1 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2024-07-01');
CREATE TABLE readings_h2 PARTITION OF readings FOR VALUES FROM ('2024-07-01') TO ('2025-01-01');
CREATE INDEX readings_at ON readings (at);
INSERT INTO readings VALUES ('2024-02-01', 1), ('2024-08-01', 2);
CREATE TABLE regions (region text NOT NULL, n integer) PARTITION BY LIST (region);
CREATE TABLE regions_eu PARTITION OF regions FOR VALUES IN ('eu');
CREATE TABLE regions_rest PARTITION OF regions DEFAULT;
INSERT INTO regions VALUES ('eu', 1), ('us', 2);
