CREATE TABLE "Order" ("select" bigint, "Mixed Case" text NOT NULL, "user" text);
CREATE INDEX "Order by user" ON "Order" ("user");
