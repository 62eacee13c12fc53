-- MikroText schema, version 1. Portable between PostgreSQL and H2 (PostgreSQL mode).
-- Times are epoch seconds (UTC). Binary values are raw bytes. Tokens are stored only as SHA-256 (lowercase hex).

CREATE TABLE rooms (
    id           VARCHAR(22) NOT NULL PRIMARY KEY,
    key_version  INTEGER     NOT NULL,
    last_seq     BIGINT      NOT NULL,
    created_at   BIGINT      NOT NULL,
    expires_at   BIGINT      NOT NULL
);
CREATE INDEX rooms_expires_at ON rooms (expires_at);

CREATE TABLE participants (
    id            VARCHAR(22)  NOT NULL PRIMARY KEY,
    room_id       VARCHAR(22)  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    pseudonym     VARCHAR(400) NOT NULL,
    signing_key   BYTEA        NOT NULL,
    exchange_key  BYTEA        NOT NULL,
    role          VARCHAR(16)  NOT NULL,
    token_hash    CHAR(64)     NOT NULL,
    joined_at     BIGINT       NOT NULL,
    CONSTRAINT participants_token_hash UNIQUE (token_hash)
);
CREATE INDEX participants_room ON participants (room_id);

-- An invite keeps its wrapped room key until it is spent; a spent invite is a tombstone (hash only)
-- until it expires, so that a second use can be told "already used".
CREATE TABLE invites (
    token_hash        CHAR(64)    NOT NULL PRIMARY KEY,
    room_id           VARCHAR(22) NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    key_version       INTEGER     NOT NULL,
    wrapped_room_key  BYTEA,
    spent             BOOLEAN     NOT NULL,
    expires_at        BIGINT      NOT NULL
);
CREATE INDEX invites_room ON invites (room_id);
CREATE INDEX invites_expires_at ON invites (expires_at);

CREATE TABLE envelopes (
    room_id      VARCHAR(22) NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq          BIGINT      NOT NULL,
    sender_id    VARCHAR(22) NOT NULL,
    key_version  INTEGER     NOT NULL,
    chain_id     BYTEA       NOT NULL,
    chain_index  INTEGER     NOT NULL,
    checkpoint   BYTEA,
    nonce        BYTEA       NOT NULL,
    ciphertext   BYTEA       NOT NULL,
    signature    BYTEA       NOT NULL,
    created_at   BIGINT      NOT NULL,
    expires_at   BIGINT      NOT NULL,
    PRIMARY KEY (room_id, seq),
    CONSTRAINT envelopes_chain_position UNIQUE (room_id, sender_id, key_version, chain_id, chain_index)
);

-- Rotation wraps: the new room key wrapped for one participant, kept until the room ends.
CREATE TABLE key_wraps (
    room_id         VARCHAR(22) NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    participant_id  VARCHAR(22) NOT NULL,
    key_version     INTEGER     NOT NULL,
    wrapped         BYTEA       NOT NULL,
    PRIMARY KEY (room_id, participant_id, key_version)
);
