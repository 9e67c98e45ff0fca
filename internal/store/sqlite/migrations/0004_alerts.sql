-- Alerts raised by detection rules. evidence is a JSON array of audit IDs.
CREATE TABLE alerts (
	id         TEXT    NOT NULL PRIMARY KEY,
	rule_id    TEXT    NOT NULL,
	severity   INTEGER NOT NULL,
	cluster    TEXT    NOT NULL,
	title      TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	status     TEXT    NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
	evidence   TEXT    NOT NULL,
	raw        BLOB    NOT NULL
);
CREATE INDEX alerts_by_created ON alerts (created_at DESC, id);
CREATE INDEX alerts_by_status ON alerts (status, created_at DESC);
