CREATE TABLE events_a (at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE INDEX events_a_kind ON events_a (kind);
CREATE TABLE events_b (at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE INDEX events_b_at ON events_b (at);
CREATE TABLE events_2024 PARTITION OF events_a FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events_b FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
