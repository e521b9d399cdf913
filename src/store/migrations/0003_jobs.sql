-- harden serve: the work webhooks ask for, kept before the delivery is acknowledged so that it
-- survives a restart; and what people told harden in comments (paths to leave alone, the
-- threads already told why a command was refused).

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    repo        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    -- A job with the same key is queued once, ever (a comment seen through two hooks).
    key         TEXT UNIQUE,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  INTEGER NOT NULL,
    worker      TEXT,
    lease_until INTEGER,
    outcome     TEXT,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_waiting ON jobs (state, not_before);
CREATE INDEX jobs_by_repo ON jobs (repo, state);

CREATE TABLE ignored_paths (
    repo    TEXT NOT NULL,
    path    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (repo, path)
);

CREATE TABLE notices (
    repo    TEXT NOT NULL,
    thread  INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (repo, thread)
);
