package continuous

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/palisade-sec/palisade/internal/atomicfile"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/server"
)

// AdminGroup may register and remove clusters: registering hands Palisade
// credentials to a cluster.
const AdminGroup = "palisade:admins"

// clusterName is what a registered cluster may be called: it names a file
// and appears in findings and alerts. posture.clusters in palisade.yaml
// follows the same rule.
var clusterName = config.ClusterName

// maxKubeconfig bounds a registration body.
const maxKubeconfig = 1 << 20

// Registry keeps registered clusters' kubeconfigs in Dir (one 0600 file per
// cluster, like ~/.kube/config) and the Manager watching them, so clusters
// stay registered across restarts.
type Registry struct {
	Manager *Manager
	Dir     string
}

// Load registers every cluster saved in Dir.
func (r *Registry) Load() error {
	entries, err := os.ReadDir(r.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read cluster registry %s: %w", r.Dir, err)
	}
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".kubeconfig")
		if !ok || !clusterName.MatchString(name) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(r.Dir, e.Name()))
		if err == nil {
			err = r.register(name, data, "")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cluster %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Registry) register(name string, kubeconfig []byte, context string) error {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return fmt.Errorf("parse kubeconfig: %w", err)
	}
	return r.registerConfig(name, cc, context)
}

func (r *Registry) registerConfig(name string, cc *clientcmdapi.Config, context string) error {
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*cc, context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig context %q: %w", context, err)
	}
	return r.Manager.Register(Cluster{Name: name, Config: cfg})
}

// Configured registers the clusters of palisade.yaml (posture.clusters).
// Their kubeconfigs are read where they are, relative certificate paths
// resolved against the kubeconfig's directory as kubectl does, and are
// not copied into Dir: the configuration file stays their one source, so
// DELETE /api/v1/clusters/{name} stops one only until the next start.
// Call it before Load, so that a configured name wins over a saved
// registration of the same name.
func (r *Registry) Configured(clusters []config.PostureCluster) error {
	var errs []error
	for i, c := range clusters {
		cc, err := clientcmd.LoadFromFile(c.Kubeconfig)
		if err == nil {
			err = r.registerConfig(c.Name, cc, c.Context)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("posture.clusters[%d] (%s): %w", i, c.Name, err))
		}
	}
	return errors.Join(errs...)
}

// registration is the body of POST /api/v1/clusters.
type registration struct {
	Name       string `json:"name"`
	Kubeconfig string `json:"kubeconfig"`
	Context    string `json:"context,omitempty"`
}

// Mount serves the clusters API on srv: GET /api/v1/clusters (any token)
// lists the watched clusters and their status; POST registers one (JSON
// {name, kubeconfig, context}, or the kubeconfig itself with
// ?name=…&context=…) and
// DELETE /api/v1/clusters/{name} removes one (admin tokens only).
func (r *Registry) Mount(srv *server.Server) {
	srv.HandleAPI("GET /api/v1/clusters", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"clusters": r.Manager.Status()})
	}))
	srv.HandleAPI("POST /api/v1/clusters", admin(http.HandlerFunc(r.post)))
	srv.HandleAPI("DELETE /api/v1/clusters/{name}", admin(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := req.PathValue("name")
		if !clusterName.MatchString(name) || !r.Manager.Unregister(name) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such cluster"})
			return
		}
		if err := os.Remove(filepath.Join(r.Dir, name+".kubeconfig")); err != nil && !errors.Is(err, os.ErrNotExist) {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cluster stopped but its kubeconfig could not be removed"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
}

func (r *Registry) post(w http.ResponseWriter, req *http.Request) {
	var reg registration
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxKubeconfig))
	switch {
	case err != nil:
	case strings.HasPrefix(req.Header.Get("Content-Type"), "application/json"):
		err = json.Unmarshal(body, &reg)
	default:
		// A kubeconfig as the body (curl --data-binary @kubeconfig), named by
		// the query: what a shell script can send without a JSON encoder.
		q := req.URL.Query()
		reg = registration{Name: q.Get("name"), Kubeconfig: string(body), Context: q.Get("context")}
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {name, kubeconfig, context}: " + err.Error()})
		return
	}
	if !clusterName.MatchString(reg.Name) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "name: lowercase letters, digits, '.', '_' and '-', at most 63"})
		return
	}
	if err := r.register(reg.Name, []byte(reg.Kubeconfig), reg.Context); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrDuplicate) {
			code = http.StatusConflict
		}
		// The error names the problem, never the kubeconfig's content.
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	if err := r.save(reg.Name, []byte(reg.Kubeconfig)); err != nil {
		r.Manager.Unregister(reg.Name)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "save kubeconfig: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"cluster": reg.Name, "status": "first scan started"})
}

// save writes the kubeconfig atomically, readable by Palisade only.
func (r *Registry) save(name string, kubeconfig []byte) error {
	return atomicfile.Write(filepath.Join(r.Dir, name+".kubeconfig"), kubeconfig, 0o600)
}

func admin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := server.PrincipalFrom(r.Context())
		if !ok || !slices.Contains(p.Groups, AdminGroup) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "registering clusters needs a token in group " + AdminGroup})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
