-- API tokens of /api/v1 and the panel: only a SHA-256 of each token's secret is kept.

CREATE TABLE api_tokens (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    scope   TEXT NOT NULL,
    hash    TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT,
    revoked TEXT
);
