CREATE TABLE events (name text, id serial);
