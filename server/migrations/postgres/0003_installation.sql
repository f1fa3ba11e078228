-- One id for the installation: the nodes sharing this database name their bus channel after
-- it, however each of them spells the database's address.
CREATE TABLE installation (id TEXT NOT NULL);
INSERT INTO installation (id) VALUES (gen_random_uuid()::text);
