CREATE TYPE old_kind AS ENUM ('x', 'y');
CREATE TABLE t (id integer, kind old_kind);
