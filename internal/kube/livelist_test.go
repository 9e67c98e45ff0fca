package kube

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// listPage is a DeploymentList as the API server sends it, in protobuf
// and in JSON.
func listPage(t testing.TB) (pb, js []byte, want *appsv1.DeploymentList) {
	t.Helper()
	replicas := int32(3)
	want = &appsv1.DeploymentList{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DeploymentList"},
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next"},
	}
	for _, name := range []string{"web", "api"} {
		want.Items = append(want.Items, appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": name}},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: name, Image: "registry.example/" + name + ":1.0"}},
			}}},
		})
	}
	// As the API server sends them: with managedFields, which the scan
	// drops.
	sent := want.DeepCopy()
	for i := range sent.Items {
		sent.Items[i].ManagedFields = []metav1.ManagedFieldsEntry{{
			Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "apps/v1",
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)},
		}}
	}
	var b bytes.Buffer
	if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(sent, &b); err != nil {
		t.Fatal(err)
	}
	pb = b.Bytes()
	js, err := runtime.Encode(scheme.Codecs.LegacyCodec(appsv1.SchemeGroupVersion), want)
	if err != nil {
		t.Fatal(err)
	}
	return pb, js, want
}

var dl = appsv1.SchemeGroupVersion.WithKind("DeploymentList")

func TestDecodeList(t *testing.T) {
	pb, js, want := listPage(t)
	for _, tt := range []struct {
		name string
		kind schema.GroupVersionKind
		data []byte
		err  string // substring; "" for success
	}{
		{"protobuf", dl, pb, ""},
		{"json", dl, js, ""},
		{"another kind", corev1.SchemeGroupVersion.WithKind("ServiceList"), pb, "is a apps/v1, Kind=DeploymentList, not a /v1, Kind=ServiceList"},
		{"truncated", dl, pb[:len(pb)-7], "unexpected EOF"},
		{"envelope only", dl, protobufPrefix, "empty protobuf body"},
		{"raw with a varint", dl, append(bytes.Clone(protobufPrefix), 0x10, 0x01), "field 2 has wire type 0"},
		{"bad tag", dl, append(bytes.Clone(protobufPrefix), 0x80), "protobuf envelope"},
		{"truncated json", dl, js[:len(js)/2], "unexpected end of JSON input"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := &appsv1.DeploymentList{}
			err := decodeList(tt.data, tt.kind, got)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("decodeList = %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.TypeMeta = want.TypeMeta // JSON sets it, protobuf leaves it to the envelope
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestDecodeListKeepsNoBuffer checks that a decoded page holds nothing of
// the buffer it was read into, which listKind reuses for the next page.
func TestDecodeListKeepsNoBuffer(t *testing.T) {
	pb, _, want := listPage(t)
	got := &appsv1.DeploymentList{}
	if err := decodeList(pb, dl, got); err != nil {
		t.Fatal(err)
	}
	for i := range pb {
		pb[i] = 'x'
	}
	got.TypeMeta = want.TypeMeta
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after the buffer changed, decoded\n%+v\nwant\n%+v", got, want)
	}
}

// FuzzDecodeList holds decodeList to apimachinery's protobuf serializer:
// what it decodes, the serializer decodes alike once managedFields are
// retagged (dropManagedFields), and a DeploymentList the serializer
// decodes, it decodes the same but for managedFields, unless the envelope
// is malformed.
func FuzzDecodeList(f *testing.F) {
	pb, js, _ := listPage(f)
	f.Add(pb)
	f.Add(js)
	f.Add(pb[:len(pb)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, protobufPrefix) {
			return // JSON: client-go's own decoder
		}
		got := &appsv1.DeploymentList{}
		stripped := bytes.Clone(data)
		err := decodeList(stripped, dl, got) // rewrites stripped
		serializer := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
		decode := func(data []byte) (*appsv1.DeploymentList, bool, error) {
			ref := &appsv1.DeploymentList{}
			obj, gvk, err := serializer.Decode(data, nil, ref)
			return ref, err == nil && gvk != nil && gvk.Kind == "DeploymentList" && obj == runtime.Object(ref), err
		}
		ref, refOK, _ := decode(data)
		if err == nil {
			// What it decodes is what the serializer makes of the items
			// without their managedFields.
			want, ok, wantErr := decode(stripped)
			if !ok {
				t.Fatalf("decodeList took what the serializer refuses without managedFields (%v)", wantErr)
			}
			got.TypeMeta = want.TypeMeta
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded\n%+v\nserializer\n%+v", got, want)
			}
		}
		for i := range ref.Items {
			ref.Items[i].ManagedFields = nil
		}
		switch {
		case err != nil && refOK && !strings.Contains(err.Error(), "protobuf envelope:"):
			// protowire refuses malformed envelopes gogo's decoder skips
			// (a group ended by another field's marker); the API server
			// never sends them. Any other refusal is a bug.
			t.Fatalf("decodeList refused a DeploymentList the serializer decodes: %v", err)
		case err == nil && refOK:
			got.TypeMeta = ref.TypeMeta
			if !reflect.DeepEqual(got, ref) {
				t.Fatalf("decoded\n%+v\nserializer, managedFields cleared\n%+v", got, ref)
			}
		}
	})
}

// TestListEncoding checks, on every kind a live scan lists, what
// presizeItems and dropManagedFields take of the protobuf encoding: a
// list's items are its field listItemsField, an object's ObjectMeta its
// field 1 and managedFields ObjectMeta's field 17. Items decode with their
// metadata but managedFields, into a slice sized once.
func TestListEncoding(t *testing.T) {
	for _, gvk := range liveKinds() {
		listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
		list, err := scheme.Scheme.New(listGVK)
		if err != nil {
			t.Fatal(err)
		}
		items := reflect.ValueOf(list).Elem().FieldByName("Items")
		items.Set(reflect.MakeSlice(items.Type(), 2, 2))
		for i := range 2 {
			m := items.Index(i).Addr().Interface().(metav1.Object)
			m.SetName(fmt.Sprintf("item-%d", i))
			m.SetLabels(map[string]string{"app": "web"})
			m.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "kubectl", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{}}`)}}})
		}
		raw, err := list.(interface{ Marshal() ([]byte, error) }).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		into, _ := scheme.Scheme.New(listGVK)
		presizeItems(into, raw)
		if got := reflect.ValueOf(into).Elem().FieldByName("Items").Cap(); got != 2 {
			t.Errorf("%s: presized to %d items, want 2", listGVK.Kind, got)
		}
		dropManagedFields(raw)
		if err := into.(interface{ Unmarshal([]byte) error }).Unmarshal(raw); err != nil {
			t.Fatalf("%s: %v", listGVK.Kind, err)
		}
		got := reflect.ValueOf(into).Elem().FieldByName("Items")
		for i := range 2 {
			m := got.Index(i).Addr().Interface().(metav1.Object)
			if m.GetName() != fmt.Sprintf("item-%d", i) || m.GetLabels()["app"] != "web" || m.GetManagedFields() != nil {
				t.Errorf("%s item %d: name %q, labels %v, managedFields %v; want item-%d, app=web, none", listGVK.Kind, i, m.GetName(), m.GetLabels(), m.GetManagedFields(), i)
			}
		}
	}
}
