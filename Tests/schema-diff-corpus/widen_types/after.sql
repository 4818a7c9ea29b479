CREATE TABLE t (id bigint PRIMARY KEY, code varchar(50), ratio double precision, amount numeric(12,4));
