CREATE TYPE "Risk Level" AS ENUM ('low', 'high', 'medium');
CREATE TABLE positions (ticker text, risk "Risk Level" DEFAULT 'low', history "Risk Level"[] DEFAULT '{}');
