-- harden's state in PostgreSQL, for `harden serve` replicas that share one queue: the same
-- tables as the SQLite file's (migrations 0001 to 0003 there), in PostgreSQL's types.

CREATE TABLE orgs (
    login       TEXT PRIMARY KEY,
    seen_at     BIGINT NOT NULL
);

CREATE TABLE repos (
    full_name       TEXT PRIMARY KEY,
    org             TEXT NOT NULL,
    default_branch  TEXT NOT NULL,
    tree_sha        TEXT,
    tree_etag       TEXT,
    candidates      BIGINT NOT NULL DEFAULT 0,
    skipped         TEXT,
    has_pull        BOOLEAN NOT NULL DEFAULT FALSE,
    waiting         BOOLEAN NOT NULL DEFAULT FALSE,
    judged_with     TEXT,
    seen_at         BIGINT NOT NULL
);
CREATE INDEX repos_by_org ON repos (org);

CREATE TABLE sweeps (
    id          BIGSERIAL PRIMARY KEY,
    org         TEXT NOT NULL,
    shard       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE TABLE results (
    sweep       BIGINT NOT NULL REFERENCES sweeps (id),
    repo        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    pull        BIGINT,
    requests    BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (sweep, repo)
);

CREATE TABLE pulls (
    repo                TEXT NOT NULL,
    number              BIGINT NOT NULL,
    url                 TEXT NOT NULL,
    state               TEXT NOT NULL,
    fingerprint         TEXT,
    files               TEXT NOT NULL,
    bytes_before        BIGINT,
    bytes_after         BIGINT,
    findings_fixed      BIGINT NOT NULL,
    findings_remaining  BIGINT NOT NULL,
    blocked_reason      TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (repo, number)
);

CREATE TABLE openings (
    org     TEXT NOT NULL,
    repo    TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX openings_by_org ON openings (org, at);

CREATE TABLE cache (
    route   TEXT PRIMARY KEY,
    etag    TEXT NOT NULL,
    body    TEXT NOT NULL
);

CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE jobs (
    id          BIGSERIAL PRIMARY KEY,
    repo        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    key         TEXT UNIQUE,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  BIGINT NOT NULL,
    worker      TEXT,
    lease_until BIGINT,
    outcome     TEXT,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_waiting ON jobs (state, not_before);
CREATE INDEX jobs_by_repo ON jobs (repo, state);

CREATE TABLE ignored_paths (
    repo    TEXT NOT NULL,
    path    TEXT NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (repo, path)
);

CREATE TABLE notices (
    repo    TEXT NOT NULL,
    thread  BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (repo, thread)
);
