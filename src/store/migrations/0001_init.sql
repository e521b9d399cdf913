-- harden's state: what the sweeps saw and what they did. The forge stays the source of truth:
-- every pull request is found again from its branch (harden/all) and its harden:meta fingerprint,
-- so losing this file loses only the cache.

CREATE TABLE orgs (
    login       TEXT PRIMARY KEY,
    seen_at     INTEGER NOT NULL
);

CREATE TABLE repos (
    full_name       TEXT PRIMARY KEY,
    org             TEXT NOT NULL,
    default_branch  TEXT NOT NULL,
    head_sha        TEXT,
    tree_sha        TEXT,
    tree_etag       TEXT,
    candidates      INTEGER NOT NULL DEFAULT 0,
    skipped         TEXT,
    has_pull        INTEGER NOT NULL DEFAULT 0,
    waiting         INTEGER NOT NULL DEFAULT 0,
    judged_with     TEXT,
    seen_at         INTEGER NOT NULL
);
CREATE INDEX repos_by_org ON repos (org);

CREATE TABLE sweeps (
    id          INTEGER PRIMARY KEY,
    org         TEXT NOT NULL,
    shard       TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);

CREATE TABLE results (
    sweep       INTEGER NOT NULL REFERENCES sweeps (id),
    repo        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    pull        INTEGER,
    requests    INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (sweep, repo)
);

CREATE TABLE pulls (
    repo                TEXT NOT NULL,
    number              INTEGER NOT NULL,
    url                 TEXT NOT NULL,
    state               TEXT NOT NULL,
    fingerprint         TEXT,
    files               TEXT NOT NULL,
    bytes_before        INTEGER,
    bytes_after         INTEGER,
    findings_fixed      INTEGER NOT NULL,
    findings_remaining  INTEGER NOT NULL,
    blocked_reason      TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (repo, number)
);

-- Pull requests harden opened, for the org-wide hourly budget.
CREATE TABLE openings (
    org     TEXT NOT NULL,
    repo    TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX openings_by_org ON openings (org, at);

-- Answers kept for conditional reads (an organisation's listing, harden's pull requests of a
-- repository): sent back with their ETag, an unchanged answer is a free 304.
CREATE TABLE cache (
    route   TEXT PRIMARY KEY,
    etag    TEXT NOT NULL,
    body    TEXT NOT NULL
);
