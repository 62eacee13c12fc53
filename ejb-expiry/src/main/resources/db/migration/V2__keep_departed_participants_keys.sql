-- A participant who leaves or is removed keeps its row, with its public keys, until the room ends, so that people
-- who join later can still verify the signatures of what it wrote. Its session token hash is dropped at once.
ALTER TABLE participants ALTER COLUMN token_hash DROP NOT NULL;
ALTER TABLE participants ADD COLUMN left_at BIGINT;
