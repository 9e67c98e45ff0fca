// Package audit turns Kubernetes API-server audit logs into alerts: it
// decodes audit.k8s.io events from files, webhook batches and the EKS, GKE
// and AKS log envelopes (Decode), normalizes them into one Event schema
// (Normalize), evaluates detection rules and correlates multi-step attacks
// (Engine), and runs the whole offline pipeline (Replay). Falco k8saudit
// rule files load through package falco into the same Engine.
//
// The raw event type K8sEvent is our own struct with the JSON shape of
// audit.k8s.io/v1 Event rather than k8s.io/apiserver's: that module drags
// etcd, OpenTelemetry and the whole apiserver tree into every binary that
// only needs to read a dozen stable fields.
//
// # Rule files
//
// A rule file is YAML with rules and sequences; conditions are CEL over e,
// the event as Event.Value describes it:
//
//	rules:
//	- id: pod-exec                     # stable, ^[a-z0-9][a-z0-9-]*(/[a-z0-9-]+)*$
//	  name: Exec into a pod
//	  severity: medium                 # critical, high, medium, low, info
//	  description: Someone ran a command in a container.
//	  mitre: {tactics: [TA0002], techniques: [T1609]}
//	  stages: [ResponseStarted, ResponseComplete]   # default: ResponseComplete
//	  verbs: [create, get]             # optional cheap prefilters
//	  resources: [pods/exec]
//	  condition: e.decision != 'forbidden' && e.actor.type != 'system'
//	  throttle: 10m                    # one alert per throttleBy key per window
//	  throttleBy: [actor.username, target.namespace]
//	  threshold: {count: 10, window: 1m}   # optional: fire on bursts only
//	  playbook:                        # $NAME $NAMESPACE $RESOURCE $ACTOR $ACTOR_NAME $URI
//	  - {title: Inspect the pod, command: "kubectl describe pod $NAME -n $NAMESPACE"}
//	  exceptions:
//	  - {namespace: "debug-*", owner: sre, reason: debugging namespace, expires: 2027-01-31}
//	sequences:
//	- id: admin-binding-then-secrets
//	  severity: critical
//	  window: 1h
//	  steps:
//	  - rule: cluster-admin-binding    # the step matches when this rule fired…
//	    emit: e.request.subjects.map(s, s.name)   # …and hands these keys on
//	  - condition: e.target.resource == 'secrets' && e.verb == 'list'
//	    join: "[e.actor.username] + e.actor.groups"   # must equal an emitted key
//
// Every rule compiles when loaded; an error names the file, the rule and
// the position in the condition. Rule state — dedupe, throttles, bursts and
// partial sequences — lives in bounded LRU tables (EngineOptions.MaxState)
// and expires by event time, so memory stays flat and replays are
// deterministic.
package audit
