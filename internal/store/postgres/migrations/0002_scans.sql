-- Image scan results; several scans of one digest form its history.
CREATE TABLE scans (
	image_digest     text COLLATE "C" NOT NULL,
	scanned_at       timestamptz      NOT NULL,
	image_ref        text             NOT NULL,
	policy_digest    text             NOT NULL,
	advisory_db_time timestamptz      NOT NULL,
	passed           boolean          NOT NULL,
	count_critical   integer          NOT NULL,
	count_high       integer          NOT NULL,
	count_medium     integer          NOT NULL,
	count_low        integer          NOT NULL,
	count_info       integer          NOT NULL,
	count_unknown    integer          NOT NULL,
	report           bytea            NOT NULL,
	PRIMARY KEY (image_digest, scanned_at)
);
CREATE INDEX scans_by_time ON scans (scanned_at DESC, image_digest);
