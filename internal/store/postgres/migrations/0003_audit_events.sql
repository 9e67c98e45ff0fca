-- Kubernetes audit events; the primary key is the dedupe key.
CREATE TABLE audit_events (
	cluster     text COLLATE "C" NOT NULL,
	audit_id    text COLLATE "C" NOT NULL,
	stage       text COLLATE "C" NOT NULL,
	received_at timestamptz      NOT NULL,
	event_time  timestamptz      NOT NULL,
	verb        text COLLATE "C" NOT NULL,
	username    text COLLATE "C" NOT NULL,
	namespace   text COLLATE "C" NOT NULL,
	resource    text COLLATE "C" NOT NULL,
	name        text COLLATE "C" NOT NULL,
	raw         bytea            NOT NULL,
	PRIMARY KEY (cluster, audit_id, stage)
);
CREATE INDEX audit_events_by_time ON audit_events (event_time);
CREATE INDEX audit_events_by_user ON audit_events (username, event_time);
CREATE INDEX audit_events_by_audit_id ON audit_events (audit_id);
