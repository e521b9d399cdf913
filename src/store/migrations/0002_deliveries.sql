-- harden serve: every webhook delivery it accepted, by GitHub's delivery id, so that a
-- redelivery (GitHub's own retry, or a replay) is answered and dropped, never run twice.

CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
