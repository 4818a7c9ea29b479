CREATE TABLE scores (ticker varchar(20) NOT NULL PRIMARY KEY);
