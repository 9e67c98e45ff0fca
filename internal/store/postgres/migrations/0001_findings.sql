-- Current findings per scope. body is the finding as JSON; the other columns
-- are copies of the fields that filters and orderings use. Text that is
-- compared or ordered uses COLLATE "C" so that results match SQLite's
-- bytewise order whatever the database's default collation.
CREATE TABLE findings (
	scope      text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	rule_id    text COLLATE "C" NOT NULL,
	severity   integer          NOT NULL,
	status     text COLLATE "C" NOT NULL,
	cluster    text COLLATE "C" NOT NULL,
	namespace  text COLLATE "C" NOT NULL,
	first_seen timestamptz      NOT NULL,
	last_seen  timestamptz      NOT NULL,
	body       text             NOT NULL,
	PRIMARY KEY (scope, id)
);
CREATE INDEX findings_by_severity ON findings (severity DESC, rule_id, scope, id);
CREATE INDEX findings_by_rule ON findings (rule_id);
CREATE INDEX findings_by_namespace ON findings (namespace);
