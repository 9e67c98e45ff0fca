-- Alerts raised by detection rules.
CREATE TABLE alerts (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	rule_id    text COLLATE "C" NOT NULL,
	severity   integer          NOT NULL,
	cluster    text COLLATE "C" NOT NULL,
	title      text             NOT NULL,
	created_at timestamptz      NOT NULL,
	updated_at timestamptz      NOT NULL,
	status     text COLLATE "C" NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
	evidence   text[]           NOT NULL,
	raw        bytea            NOT NULL
);
CREATE INDEX alerts_by_created ON alerts (created_at DESC, id);
CREATE INDEX alerts_by_status ON alerts (status, created_at DESC);
