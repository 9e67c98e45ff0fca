package audit

import (
	"encoding/json"
	"fmt"
	"strings"
)

// cloudWatch decodes a CloudWatch Logs subscription record. EKS writes audit
// events to log streams named kube-apiserver-audit-*; records of other
// streams (scheduler, authenticator) and control messages are skipped.
func (d *decoder) cloudWatch(env *envelope, src Source) error {
	if env.MessageType != "DATA_MESSAGE" {
		d.stats.Skipped++
		return nil
	}
	if !strings.HasPrefix(env.LogStream, "kube-apiserver-audit") {
		d.stats.Skipped += len(env.LogEvents)
		return nil
	}
	if src.Cluster == "" {
		src.Cluster = eksCluster(env.LogGroup)
	}
	if src.Name == "" {
		src.Name = env.LogGroup + "/" + env.LogStream
	}
	for i, le := range env.LogEvents {
		var ev K8sEvent
		if err := json.Unmarshal([]byte(le.Message), &ev); err != nil {
			return fmt.Errorf("decode CloudWatch log event %d (id %s) of %s: %w", i, le.ID, env.LogStream, err)
		}
		if err := d.event(&ev, src); err != nil {
			return err
		}
	}
	return nil
}

// eksCluster extracts the cluster from an EKS log group,
// "/aws/eks/<cluster>/cluster", also when given as an ARN.
func eksCluster(group string) string {
	if i := strings.Index(group, "/aws/eks/"); i >= 0 {
		rest := group[i+len("/aws/eks/"):]
		if c, _, ok := strings.Cut(rest, "/"); ok {
			return c
		}
	}
	return ""
}

// azure decodes an Azure Monitor diagnostic record. AKS sends audit events
// under the categories kube-audit (everything) and kube-audit-admin (no
// get/list/watch); other categories are other control-plane logs.
func (d *decoder) azure(env *envelope, src Source) error {
	switch env.Category {
	case "kube-audit", "kube-audit-admin":
	default:
		d.stats.Skipped++
		return nil
	}
	if env.Properties == nil || len(env.Properties.Log) == 0 {
		return fmt.Errorf("decode AKS %s record: no properties.log", env.Category)
	}
	log := []byte(env.Properties.Log)
	if log[0] == '"' {
		var str string
		if err := json.Unmarshal(log, &str); err != nil {
			return fmt.Errorf("decode AKS %s record properties.log: %w", env.Category, err)
		}
		log = []byte(str)
	}
	if src.Cluster == "" {
		if i := strings.LastIndexByte(env.ResourceID, '/'); i >= 0 {
			src.Cluster = strings.ToLower(env.ResourceID[i+1:])
		}
	}
	var ev K8sEvent
	if err := json.Unmarshal(log, &ev); err != nil {
		return fmt.Errorf("decode AKS %s record properties.log: %w", env.Category, err)
	}
	return d.event(&ev, src)
}

// logEntry is the part of a Cloud Logging LogEntry with a
// google.cloud.audit.AuditLog payload that GKE fills in.
type logEntry struct {
	InsertID  string `json:"insertId"`
	Timestamp string `json:"timestamp"`
	Operation struct {
		ID string `json:"id"`
	} `json:"operation"`
	Resource struct {
		Type   string            `json:"type"`
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
	ProtoPayload struct {
		Type               string `json:"@type"`
		ServiceName        string `json:"serviceName"`
		MethodName         string `json:"methodName"`
		ResourceName       string `json:"resourceName"`
		AuthenticationInfo struct {
			PrincipalEmail string `json:"principalEmail"`
		} `json:"authenticationInfo"`
		AuthorizationInfo []struct {
			Granted bool `json:"granted"`
		} `json:"authorizationInfo"`
		RequestMetadata struct {
			CallerIP                string `json:"callerIp"`
			CallerSuppliedUserAgent string `json:"callerSuppliedUserAgent"`
		} `json:"requestMetadata"`
		Status struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
		Request  json.RawMessage `json:"request"`
		Response json.RawMessage `json:"response"`
	} `json:"protoPayload"`
}

// grpcToHTTP maps google.rpc.Code to the HTTP status the API server
// answered (the mapping of google.golang.org/grpc's status package).
var grpcToHTTP = [...]int32{0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403,
	8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}

// gke rebuilds the audit event from a GKE LogEntry, as Falco's k8saudit-gke
// plugin does: auditID from insertId, verb from the method name, the target
// from the resource name.
func (d *decoder) gke(raw []byte, src Source) error {
	var le logEntry
	if err := json.Unmarshal(raw, &le); err != nil {
		return fmt.Errorf("decode GKE LogEntry: %w", err)
	}
	p := &le.ProtoPayload
	if !strings.HasSuffix(p.Type, "google.cloud.audit.AuditLog") || (p.ServiceName != "" && p.ServiceName != "k8s.io") {
		d.stats.Skipped++
		return nil
	}
	if src.Cluster == "" {
		src.Cluster = le.Resource.Labels["cluster_name"]
	}
	ev := K8sEvent{
		Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: "RequestResponse",
		AuditID: le.InsertID, Stage: "ResponseComplete",
		StageTimestamp: le.Timestamp,
		User:           UserInfo{Username: p.AuthenticationInfo.PrincipalEmail},
		UserAgent:      p.RequestMetadata.CallerSuppliedUserAgent,
		RequestObject:  stripType(p.Request),
		ResponseObject: stripType(p.Response),
	}
	if ev.AuditID == "" {
		ev.AuditID = le.Operation.ID
	}
	if p.RequestMetadata.CallerIP != "" {
		ev.SourceIPs = []string{p.RequestMetadata.CallerIP}
	}
	if i := strings.LastIndexByte(p.MethodName, '.'); i >= 0 {
		ev.Verb = p.MethodName[i+1:]
	}
	code := int32(200)
	switch c := p.Status.Code; {
	case c >= 100: // an HTTP status, as some exporters write it
		code = int32(c)
	case c > 0 && c < len(grpcToHTTP):
		code = grpcToHTTP[c]
	case c == 0 && ev.Verb == "create":
		code = 201
	}
	ev.ResponseStatus = &Status{Code: code, Message: p.Status.Message}
	granted := len(p.AuthorizationInfo) > 0
	for _, a := range p.AuthorizationInfo {
		granted = granted && a.Granted
	}
	if len(p.AuthorizationInfo) > 0 {
		ev.Annotations = map[string]string{"authorization.k8s.io/decision": map[bool]string{true: "allow", false: "forbid"}[granted]}
	}
	ev.ObjectRef, ev.RequestURI = gkeTarget(p.MethodName, p.ResourceName)
	return d.event(&ev, src)
}

// gkeTarget parses a GKE resource name, "core/v1/namespaces/ns/pods/name/exec"
// or "rbac.authorization.k8s.io/v1/clusterrolebindings/name"; a
// non-resource request (method io.k8s.get) names a path instead.
func gkeTarget(method, name string) (*ObjectReference, string) {
	parts := strings.Split(name, "/")
	if strings.Count(method, ".") <= 2 || len(parts) < 3 {
		return nil, "/" + strings.TrimPrefix(name, "/")
	}
	ref := &ObjectReference{APIGroup: parts[0], APIVersion: parts[1]}
	prefix := "/apis/" + parts[0] + "/" + parts[1]
	if ref.APIGroup == "core" {
		ref.APIGroup = ""
		prefix = "/api/" + parts[1]
	}
	rest := parts[2:]
	if len(rest) >= 3 && rest[0] == "namespaces" {
		ref.Namespace, rest = rest[1], rest[2:]
	}
	if len(rest) > 0 {
		ref.Resource = rest[0]
	}
	if len(rest) > 1 {
		ref.Name = rest[1]
	}
	if len(rest) > 2 {
		ref.Subresource = rest[2]
	}
	return ref, prefix + "/" + strings.Join(parts[2:], "/")
}

// stripType removes the "@type" key GKE adds to request/response objects.
func stripType(raw json.RawMessage) map[string]any {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	delete(m, "@type")
	return m
}
