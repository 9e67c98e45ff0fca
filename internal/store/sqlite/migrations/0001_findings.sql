-- Current findings per scope. body is the finding as JSON; the other columns
-- are copies of the fields that filters and orderings use.
CREATE TABLE findings (
	scope      TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	rule_id    TEXT    NOT NULL,
	severity   INTEGER NOT NULL,
	status     TEXT    NOT NULL,
	cluster    TEXT    NOT NULL,
	namespace  TEXT    NOT NULL,
	first_seen INTEGER NOT NULL, -- Unix microseconds, like every time column
	last_seen  INTEGER NOT NULL,
	body       TEXT    NOT NULL,
	PRIMARY KEY (scope, id)
);
CREATE INDEX findings_by_severity ON findings (severity DESC, rule_id, scope, id);
CREATE INDEX findings_by_rule ON findings (rule_id);
CREATE INDEX findings_by_namespace ON findings (namespace);
