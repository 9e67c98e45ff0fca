-- Kubernetes audit events; the primary key is the dedupe key.
CREATE TABLE audit_events (
	cluster     TEXT    NOT NULL,
	audit_id    TEXT    NOT NULL,
	stage       TEXT    NOT NULL,
	received_at INTEGER NOT NULL,
	event_time  INTEGER NOT NULL,
	verb        TEXT    NOT NULL,
	username    TEXT    NOT NULL,
	namespace   TEXT    NOT NULL,
	resource    TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	raw         BLOB    NOT NULL,
	PRIMARY KEY (cluster, audit_id, stage)
);
CREATE INDEX audit_events_by_time ON audit_events (event_time);
CREATE INDEX audit_events_by_user ON audit_events (username, event_time);
CREATE INDEX audit_events_by_audit_id ON audit_events (audit_id);
