CREATE TYPE "Risk Level" AS ENUM ('low', 'medium', 'high', 'extreme');
CREATE TABLE positions (ticker text, risk "Risk Level" DEFAULT 'low', history "Risk Level"[] DEFAULT '{}');
INSERT INTO positions VALUES ('AAA', 'high', '{low,high}');
