CREATE TABLE "Order" ("select" integer, "Mixed Case" text);
