package checks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestAnnotationSecretsKubectlApply applies a Secret and a ConfigMap with
// the real kubectl to a real kube-apiserver and checks what the rationale of
// annotation-secrets claims: client-side apply copies the Secret's
// stringData in plain text into its last-applied annotation, server-side
// apply does not; a ConfigMap patched after apply keeps the old value in the
// annotation; and a metadata-only list of Secrets, which returns that
// annotation, is refused without the same list permission a full list needs.
func TestAnnotationSecretsKubectlApply(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const password = "hunter2hunter2"
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kubectl := func(args ...string) {
		t.Helper()
		bin, full := c.Kubectl(args...)
		if out, err := exec.CommandContext(ctx, bin, full...).CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	kubectl("apply", "-f", write("client.yaml", `
apiVersion: v1
kind: Secret
metadata: {name: client-side, namespace: shop}
stringData: {password: `+password+`}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: shop}
data: {DB_PASSWORD: `+password+`, LOG_LEVEL: info}
`))
	kubectl("apply", "--server-side", "-f", write("server.yaml", `
apiVersion: v1
kind: Secret
metadata: {name: server-side, namespace: shop}
stringData: {password: `+password+`}
`))
	kubectl("patch", "configmap", "app", "-n", "shop", "--type=json", `-p=[{"op":"remove","path":"/data/DB_PASSWORD"}]`)

	var objs []*kube.Object
	add := func(obj runtime.Object, kind string) {
		objs = append(objs, kube.LiveObject(obj, corev1.SchemeGroupVersion.WithKind(kind), "lab"))
	}
	for _, name := range []string{"client-side", "server-side"} {
		s, err := cs.CoreV1().Secrets("shop").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		add(s, "Secret")
	}
	cm, err := cs.CoreV1().ConfigMaps("shop").Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.Data["DB_PASSWORD"]; ok {
		t.Fatal("the patch did not remove DB_PASSWORD")
	}
	add(cm, "ConfigMap")

	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	out, err := posture.NewScanner(reg.Only("annotation-secrets", "configmap-secrets"), nil).Scan(ctx, kube.NewInventory(objs), posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range out.Findings {
		var keys []string
		for _, e := range f.Evidence {
			if e.Key {
				keys = append(keys, e.Name+"="+e.Value)
			}
		}
		got = append(got, f.RuleID+" "+f.Resource.Kind+"/"+f.Resource.Name+" "+strings.Join(keys, " "))
	}
	slices.Sort(got)
	want := []string{
		"posture/annotation-secrets ConfigMap/app key=DB_PASSWORD",
		"posture/annotation-secrets Secret/client-side annotation=kubectl.kubernetes.io/last-applied-configuration",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}

	// Metadata-only access to Secrets is authorized like full access.
	viewer, err := c.ClientCertConfig("viewer")
	if err != nil {
		t.Fatal(err)
	}
	secrets := corev1.SchemeGroupVersion.WithResource("secrets")
	mc := metadata.NewForConfigOrDie(viewer)
	if _, err := mc.Resource(secrets).Namespace("shop").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("metadata-only list without RBAC: err %v, want Forbidden", err)
	}
	if _, err := cs.RbacV1().Roles("shop").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "list-secrets"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings("shop").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "viewer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "list-secrets"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "viewer"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var list *metav1.PartialObjectMetadataList
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if list, err = mc.Resource(secrets).Namespace("shop").List(ctx, metav1.ListOptions{}); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("metadata-only list with list on secrets: %v", err)
	}
	plain := map[string]bool{}
	for _, s := range list.Items {
		plain[s.Name] = strings.Contains(s.Annotations["kubectl.kubernetes.io/last-applied-configuration"], password)
	}
	if !plain["client-side"] || plain["server-side"] {
		t.Errorf("password in plain text in the metadata of client-side %v, server-side %v; want true, false", plain["client-side"], plain["server-side"])
	}
	if _, err := kubernetes.NewForConfigOrDie(viewer).CoreV1().Secrets("shop").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("full list with the same permission: %v", err)
	}
}
