-- Image scan results; several scans of one digest form its history.
CREATE TABLE scans (
	image_digest     TEXT    NOT NULL,
	scanned_at       INTEGER NOT NULL,
	image_ref        TEXT    NOT NULL,
	policy_digest    TEXT    NOT NULL,
	advisory_db_time INTEGER NOT NULL,
	passed           INTEGER NOT NULL CHECK (passed IN (0, 1)),
	count_critical   INTEGER NOT NULL,
	count_high       INTEGER NOT NULL,
	count_medium     INTEGER NOT NULL,
	count_low        INTEGER NOT NULL,
	count_info       INTEGER NOT NULL,
	count_unknown    INTEGER NOT NULL,
	report           BLOB    NOT NULL,
	PRIMARY KEY (image_digest, scanned_at)
);
CREATE INDEX scans_by_time ON scans (scanned_at DESC, image_digest);
