package policy

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	ps, err := Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return ps[0]
}

func policyDoc(spec string) string {
	return "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: t}\nspec:\n" + indent(spec, "  ")
}

func TestEvaluate(t *testing.T) {
	privileged := pod(containers("name: a\nimage: a:1\nsecurityContext: {privileged: true}"))
	plain := pod(containers("name: a\nimage: a:1"))
	ns := func(labels string) map[string]any {
		return objectOf(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {"+labels+"}}\n")
	}
	tests := []struct {
		name        string
		spec        string
		in          Input
		object, old string
		wantMatched bool
		want        []string // messages
		wantErr     string
	}{
		{
			name:   "request fields: operation, userInfo, dryRun",
			spec:   "validations:\n- expression: \"request.operation == 'CREATE' && !request.dryRun && request.userInfo.username != 'mallory' && !('evil' in request.userInfo.groups)\"\n  message: bad request",
			in:     Input{Request: Request{Operation: "CREATE", DryRun: false, UserInfo: UserInfo{Username: "mallory", Groups: []string{"dev"}}}},
			object: plain, wantMatched: true, want: []string{"bad request"},
		},
		{
			name:   "matchConditions exempt a user",
			spec:   "matchConditions:\n- {name: not-ci, expression: \"request.userInfo.username != 'ci'\"}\nvalidations:\n- {expression: 'false', message: never}",
			in:     Input{Request: Request{UserInfo: UserInfo{Username: "ci"}}},
			object: plain, wantMatched: false,
		},
		{
			name:   "operations filter",
			spec:   "matchResources: {operations: [UPDATE]}\nvalidations:\n- {expression: 'false'}",
			in:     Input{Request: Request{Operation: "CREATE"}},
			object: plain, wantMatched: false,
		},
		{
			name:   "apiGroups filter",
			spec:   "matchResources: {apiGroups: [apps]}\nvalidations:\n- {expression: 'false'}",
			object: plain, wantMatched: false,
		},
		{
			name:   "changedOnly ignores what the old object already broke",
			spec:   "onUpdate: changedOnly\nvalidations:\n- scope: container\n  expression: '!container.?securityContext.?privileged.orValue(false)'\n  message: privileged",
			in:     Input{Request: Request{Operation: "UPDATE"}},
			object: privileged, old: privileged, wantMatched: true,
		},
		{
			name:   "changedOnly reports what the update introduced",
			spec:   "onUpdate: changedOnly\nvalidations:\n- scope: container\n  expression: '!container.?securityContext.?privileged.orValue(false)'\n  message: privileged",
			in:     Input{Request: Request{Operation: "UPDATE"}},
			object: privileged, old: plain, wantMatched: true, want: []string{"privileged"},
		},
		{
			name:   "always judges the whole object on update",
			spec:   "validations:\n- scope: container\n  expression: '!container.?securityContext.?privileged.orValue(false)'\n  message: privileged",
			in:     Input{Request: Request{Operation: "UPDATE"}},
			object: privileged, old: privileged, wantMatched: true, want: []string{"privileged"},
		},
		{
			name:   "oldObject is visible",
			spec:   "validations:\n- expression: oldObject == null || oldObject.metadata.name == object.metadata.name\n  message: renamed",
			object: plain, old: strings.Replace(plain, "name: p,", "name: q,", 1), wantMatched: true, want: []string{"renamed"},
		},
		{
			name:   "namespaceSelector matches labels",
			spec:   "matchResources: {namespaceSelector: {matchLabels: {tier: prod}}}\nvalidations:\n- {expression: 'false', message: prod}",
			in:     Input{NamespaceObject: ns("tier: prod")},
			object: plain, wantMatched: true, want: []string{"prod"},
		},
		{
			name:   "namespaceSelector skips other namespaces",
			spec:   "matchResources: {namespaceSelector: {matchExpressions: [{key: tier, operator: In, values: [prod]}]}}\nvalidations:\n- {expression: 'false'}",
			in:     Input{NamespaceObject: ns("tier: dev")},
			object: plain, wantMatched: false,
		},
		{
			name:   "namespaceObject in CEL",
			spec:   "validations:\n- expression: \"namespaceObject.metadata.?labels[?'tier'].orValue('') != 'dev' || !has(object.spec.hostNetwork)\"\n  message: dev",
			in:     Input{NamespaceObject: ns("tier: dev")},
			object: pod("hostNetwork: true\n" + containers("name: a\nimage: a")), wantMatched: true, want: []string{"dev"},
		},
		{
			name:   "excludeNamespaces",
			spec:   "matchResources: {excludeNamespaces: [shop]}\nvalidations:\n- {expression: 'false'}",
			object: plain, wantMatched: false,
		},
		{
			name:   "variables are lazy: an unused broken one is harmless",
			spec:   "variables:\n- {name: broken, expression: object.spec.nothing.here}\n- {name: image, expression: 'containers[0].image'}\nvalidations:\n- {expression: \"variables.image != 'a:1'\", messageExpression: \"'image ' + variables.image\"}",
			object: plain, wantMatched: true, want: []string{"image a:1"},
		},
		{
			name:   "a used broken variable is an error",
			spec:   "variables:\n- {name: broken, expression: object.spec.nothing.here}\nvalidations:\n- {expression: variables.broken == 1}",
			object: plain, wantMatched: true, wantErr: "variables.broken",
		},
		{
			name:   "params inline and overridden",
			spec:   "params: {registry: good.example}\nvalidations:\n- scope: container\n  expression: container.image.startsWith(params.registry + '/')\n  messageExpression: \"'image not from ' + params.registry\"",
			in:     Input{Params: map[string]any{"registry": "other.example"}},
			object: pod(containers("name: a\nimage: good.example/a")), wantMatched: true, want: []string{"image not from other.example"},
		},
		{
			name:        "any kind: RBAC",
			spec:        "matchResources: {apiGroups: [rbac.authorization.k8s.io], kinds: [ClusterRoleBinding]}\nvalidations:\n- expression: object.roleRef.name != 'cluster-admin'\n  message: binds cluster-admin",
			object:      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: User, name: bob}]\n",
			wantMatched: true, want: []string{"binds cluster-admin"},
		},
		{
			name:        "custom resource shaped like a deployment",
			spec:        "validations:\n- scope: container\n  expression: container.image != 'bad'\n  message: bad image",
			object:      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {template: {spec: {containers: [{name: c, image: bad}]}}}\n",
			wantMatched: true, want: []string{"bad image"},
		},
		{
			// The static bound lets small inputs skip cost tracking; a large
			// one is tracked, and stopped at the limit.
			name:   "cost limit stops a runaway expression on a large input",
			spec:   "matchResources: {kinds: [Big]}\nvalidations:\n- expression: object.items.all(a, object.items.all(b, a + b >= 0))",
			object: bigObject(1500), wantMatched: true, wantErr: "cost limit",
		},
		{
			name:   "the same expression on a small input",
			spec:   "matchResources: {kinds: [Big]}\nvalidations:\n- expression: object.items.all(a, object.items.all(b, a + b >= 0))",
			object: bigObject(10), wantMatched: true,
		},
		{
			name:   "non-bool at runtime",
			spec:   "validations:\n- expression: object.metadata.name",
			object: plain, wantMatched: true, wantErr: "did not yield a bool",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, policyDoc(tt.spec))
			in := tt.in
			in.Object = objectOf(t, tt.object)
			if tt.old != "" {
				in.OldObject = objectOf(t, tt.old)
			}
			res, err := p.Evaluate(t.Context(), &in)
			if tt.wantErr != "" {
				var ee *EvalError
				if err == nil || !errors.As(err, &ee) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want an EvalError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Matched != tt.wantMatched {
				t.Errorf("matched %v, want %v", res.Matched, tt.wantMatched)
			}
			var got []string
			for _, v := range res.Violations {
				got = append(got, v.Message)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("violations %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvaluateCancelled(t *testing.T) {
	p := mustParse(t, policyDoc("validations:\n- {expression: 'true'}"))
	ctx, cancel := contextWithCancel(t)
	cancel()
	if _, err := p.Evaluate(ctx, &Input{Object: map[string]any{"kind": "Pod"}}); !errors.Is(err, ctxCanceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// bigObject is a custom resource whose items list has n integers.
func bigObject(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: example.com/v1\nkind: Big\nmetadata: {name: b}\nitems: [0")
	for i := 1; i < n; i++ {
		b.WriteString(", " + itoa(i))
	}
	b.WriteString("]\n")
	return b.String()
}

func TestMayJudge(t *testing.T) {
	p := mustParse(t, policyDoc("matchResources: {apiGroups: ['', apps], kinds: [Pod, Deployment], operations: [CREATE]}\nvalidations:\n- {expression: 'true'}"))
	anyKind := mustParse(t, policyDoc("validations:\n- {expression: 'true'}"))
	tests := []struct {
		name                   string
		p                      *Policy
		group, kind, operation string
		want                   bool
	}{
		{"kind and group listed", p, "apps", "Deployment", "CREATE", true},
		{"operation defaults to CREATE", p, "", "Pod", "", true},
		{"kind not listed", p, "", "Service", "CREATE", false},
		{"group not listed", p, "batch", "Deployment", "CREATE", false},
		{"operation not listed", p, "", "Pod", "UPDATE", false},
		{"unknown kind may be anything", p, "", "", "CREATE", true},
		{"no matchResources: CREATE and UPDATE of anything", anyKind, "example.com", "Widget", "UPDATE", true},
		{"no matchResources: not DELETE", anyKind, "example.com", "Widget", "DELETE", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.MayJudge(tt.group, tt.kind, tt.operation); got != tt.want {
				t.Errorf("MayJudge(%q, %q, %q) = %v, want %v", tt.group, tt.kind, tt.operation, got, tt.want)
			}
		})
	}
}
