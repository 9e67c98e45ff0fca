package receiver_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
)

const sourceToken = "lab-audit-source-token-0123456789"

// TestRealAPIServerDeliversToReceiver points a real kube-apiserver's audit
// webhook backend at palisade's server over TLS and checks that the events
// of what we did arrive on the bus, stamped with the cluster's name.
func TestRealAPIServerDeliversToReceiver(t *testing.T) {
	tokens, err := server.ParseTokens("tokens", []byte(sourceToken+",lab,"+server.AuditSourceGroup+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := server.LoadOrCreateSelfSigned(t.TempDir(), server.DefaultHosts(""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{TLS: &cert, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	events, err := bus.Open(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	rc, err := receiver.New(receiver.Options{Publisher: events, Authenticate: tokens.AuditSource, Registerer: srv.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("POST "+receiver.Path, rc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	c := kubelabtest.Start(t, kubelab.Options{AuditWebhook: &kubelab.Endpoint{
		URL: "https://" + ln.Addr().String() + receiver.Path, CAData: caPEM, Token: sourceToken, BatchMaxWait: 200 * time.Millisecond,
	}})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	tctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(tctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "audited"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "anon-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "system:anonymous"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(tctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	cctx, stop := context.WithTimeout(tctx, 30*time.Second)
	defer stop()
	var mu sync.Mutex
	seen := map[string]bool{}
	go events.Consume(cctx, "e2e", receiver.SubjectPrefix+">", func(_ context.Context, m bus.Message) error {
		var r receiver.Record
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return err
		}
		if r.Cluster != "lab" || !strings.HasPrefix(m.Subject, receiver.SubjectPrefix+"lab") {
			t.Errorf("record from cluster %q on %s", r.Cluster, m.Subject)
		}
		var ev struct {
			Verb      string
			Stage     string
			ObjectRef struct{ Resource, Name string }
		}
		_ = json.Unmarshal(r.Event, &ev)
		mu.Lock()
		seen[ev.Verb+" "+ev.ObjectRef.Resource+"/"+ev.ObjectRef.Name] = true
		if seen["create namespaces/audited"] && seen["create clusterrolebindings/anon-admin"] {
			stop()
		}
		mu.Unlock()
		return nil
	})
	<-cctx.Done()
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"create namespaces/audited", "create clusterrolebindings/anon-admin"} {
		if !seen[want] {
			t.Errorf("no audit event %q reached the bus (saw %d kinds of event)", want, len(seen))
		}
	}
}
