-- The controller's state. Tasks are stored as one JSON record each (the task and the engine's
-- work record), with the columns the store queries by beside it.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE packages (
    id       TEXT PRIMARY KEY,
    meta_xml TEXT NOT NULL,
    schemas  TEXT NOT NULL,
    created  TEXT NOT NULL
);

CREATE TABLE applications (
    id         TEXT PRIMARY KEY,
    package_id TEXT NOT NULL REFERENCES packages (id),
    endpoint   TEXT NOT NULL,
    settings   TEXT NOT NULL,
    root_id    TEXT NOT NULL,
    created    TEXT NOT NULL
);

CREATE TABLE resources (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    service        TEXT NOT NULL,
    type_id        TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX resources_by_application ON resources (application_id, type_id);

CREATE TABLE tasks (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    resource_id TEXT NOT NULL,
    state       TEXT NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX tasks_by_resource ON tasks (resource_id, state);
CREATE INDEX tasks_by_state ON tasks (state);

CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    task_id      TEXT NOT NULL,
    url          TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    next_attempt TEXT NOT NULL,
    created      TEXT NOT NULL
);
