-- Events (issue #12). A subscription of a resource (the subscriber) to an event of other
-- resources (every resource of `source_type`, or the one `source_id`), delivered as a call of
-- the subscriber's handler operation (`method`, `path` below the subscriber, resolved from its
-- declaration when the subscription is made). `serial` is the last serial given out.
CREATE TABLE subscriptions (
    id            TEXT PRIMARY KEY,
    subscriber_id TEXT NOT NULL,
    event         TEXT NOT NULL,
    source_type   TEXT,
    source_id     TEXT,
    relation      TEXT,
    handler       TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    serial        INTEGER NOT NULL DEFAULT 0,
    created       TEXT NOT NULL
);
CREATE INDEX subscriptions_by_subscriber ON subscriptions (subscriber_id);
CREATE INDEX subscriptions_by_event ON subscriptions (event, source_type, source_id);

-- Notifications, written in the transaction of the change they tell of; `delivered` is set
-- when the subscriber's endpoint accepted one. Kept after delivery, for `/api/v1/deliveries`.
CREATE TABLE notifications (
    subscription_id TEXT NOT NULL,
    serial          INTEGER NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    TEXT NOT NULL,
    last_error      TEXT,
    delivered       TEXT,
    created         TEXT NOT NULL,
    PRIMARY KEY (subscription_id, serial)
);
CREATE INDEX notifications_owed ON notifications (delivered, subscription_id, serial);
