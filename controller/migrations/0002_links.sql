-- Links between resources (issue #11), one row per direction: a link of `relation` from
-- `resource_id` to `target_id`. A relation with a declared counterpart on the other type gets
-- both rows, written and removed together.
CREATE TABLE links (
    resource_id TEXT NOT NULL,
    relation    TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    created     TEXT NOT NULL,
    PRIMARY KEY (resource_id, relation, target_id)
);
CREATE INDEX links_by_target ON links (target_id);

-- Whether a task holds its resource while it runs: provisioning, configuring and
-- unprovisioning do (one at a time per resource); custom operation calls do not.
ALTER TABLE tasks ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 1;
