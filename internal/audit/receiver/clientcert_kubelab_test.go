package receiver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
)

// TestClientCertIdentity has a real kube-apiserver deliver audit events
// with a client certificate (CN = cluster name) and no token: the events
// are stamped with that cluster. A certificate from another CA gets 401,
// even with a valid token beside it, and a token alone still works.
func TestClientCertIdentity(t *testing.T) {
	tokens, err := server.ParseTokens("tokens", []byte(sourceToken+",tokencluster,"+server.AuditSourceGroup+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := server.LoadOrCreateSelfSigned(t.TempDir(), server.DefaultHosts(""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The lab CA exists only once the lab starts, and the lab needs our
	// address first: the authenticator reads the pool when called.
	var pool atomic.Pointer[x509.CertPool]
	srv, err := server.New(server.Options{TLS: &cert, Tokens: tokens, ClientCAs: x509.NewCertPool()})
	if err != nil {
		t.Fatal(err)
	}
	events, err := bus.Open(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	authenticate := func(r *http.Request) (string, bool) {
		p := pool.Load()
		if p == nil {
			return "", false
		}
		auth, err := server.AuditSources(p, tokens)
		if err != nil {
			t.Error(err)
			return "", false
		}
		return auth(r)
	}
	rc, err := receiver.New(receiver.Options{Publisher: events, Authenticate: authenticate, Registerer: srv.Registry()})
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

	url := "https://" + ln.Addr().String() + receiver.Path
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	c := kubelabtest.Start(t, kubelab.Options{AuditWebhook: &kubelab.Endpoint{
		URL: url, CAData: caPEM, ClientCert: "prod-east", BatchMaxWait: 200 * time.Millisecond,
	}})
	labCA, err := server.ParseClientCA("lab CA", c.CAData)
	if err != nil {
		t.Fatal(err)
	}
	pool.Store(labCA)

	t.Run("foreign CA", func(t *testing.T) {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(caPEM)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: roots, Certificates: []tls.Certificate{foreignClientCert(t, "prod-east")},
		}}}
		body := []byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}`)
		for _, token := range []string{"", sourceToken} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("foreign client certificate (token %v): status %d, want 401", token != "", resp.StatusCode)
			}
		}
		// No certificate, a token: still an audit source.
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+sourceToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("token without certificate: status %d, want 200", resp.StatusCode)
		}
	})

	cs := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "by-cert"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithTimeout(t.Context(), 30*time.Second)
	defer stop()
	var mu sync.Mutex
	clusters := map[string]int{}
	found := false
	go events.Consume(cctx, "by-cert", receiver.SubjectPrefix+">", func(_ context.Context, m bus.Message) error {
		var r receiver.Record
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return err
		}
		var ev struct {
			Verb      string
			ObjectRef struct{ Resource, Name string }
		}
		_ = json.Unmarshal(r.Event, &ev)
		mu.Lock()
		defer mu.Unlock()
		clusters[r.Cluster]++
		if ev.Verb == "create" && ev.ObjectRef.Resource == "namespaces" && ev.ObjectRef.Name == "by-cert" {
			found = r.Cluster == "prod-east"
			stop()
		}
		return nil
	})
	<-cctx.Done()
	mu.Lock()
	defer mu.Unlock()
	if !found {
		t.Errorf("the namespace creation did not arrive as cluster prod-east; records by cluster: %v", clusters)
	}
	if clusters["tokencluster"] > 0 {
		t.Errorf("%d records attributed to the token's cluster", clusters["tokencluster"])
	}
}

// foreignClientCert is a client certificate for cn from a CA nobody trusts.
func foreignClientCert(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other-ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
