CREATE TABLE t (id bigint PRIMARY KEY, label text, ratio double precision);
