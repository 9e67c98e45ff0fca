package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/encoding/protowire"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// listKind lists one built-in kind across all namespaces with rc, a
// client asking for protobuf (WithProtobuf). Its pages are read into buf
// and decoded from it (decodeList): the typed client read each page into
// a new, growing slice and copied it once more out of its protobuf
// envelope, a third of what a live scan allocated listing 10,000 objects.
// When it returns without error, nothing holds buf: the caller may pass
// it on to the next kind.
func listKind(ctx context.Context, rc rest.Interface, gvk schema.GroupVersionKind, buf *bytes.Buffer, cluster string, pageSize int64) ([]*Object, error) {
	path := []string{"/apis", gvk.Group, gvk.Version, resourceOf(gvk)}
	if gvk.Group == "" {
		path = []string{"/api", gvk.Version, resourceOf(gvk)}
	}
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	// One page at a time: the pager fetches pages in order on one
	// goroutine, done when it returns without error, and a decoded page
	// holds nothing of the buffer.
	list := func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		into, err := scheme.Scheme.New(listGVK)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", gvk.Kind, err)
		}
		body, err := rc.Get().AbsPath(path...).VersionedParams(&opts, scheme.ParameterCodec).Stream(ctx)
		if err != nil {
			return nil, err // the API server's status, as the typed client returns it
		}
		defer body.Close()
		buf.Reset()
		if _, err := buf.ReadFrom(body); err != nil {
			return nil, fmt.Errorf("read %s page: %w", listGVK.Kind, err)
		}
		if err := decodeList(buf.Bytes(), listGVK, into); err != nil {
			return nil, fmt.Errorf("decode %s page: %w", listGVK.Kind, err)
		}
		return into, nil
	}
	return pagedObjects(ctx, list, gvk, cluster, pageSize, controlled)
}

// protobufPrefix starts every object the API server encodes in protobuf
// (k8s.io/apimachinery's protobuf serializer).
var protobufPrefix = []byte("k8s\x00")

// decodeList decodes a LIST response, data, into into, a typed list of
// kind want. A protobuf response is a runtime.Unknown envelope whose
// raw field is the list: into decodes it where it lies in data, where the
// serializer would copy it out first. Anything else is decoded by
// client-go's deserializer (JSON, from a server or proxy that does not
// speak protobuf). A protobuf response is rewritten in place
// (dropManagedFields): its items come without their managedFields.
func decodeList(data []byte, want schema.GroupVersionKind, into runtime.Object) error {
	rest, ok := bytes.CutPrefix(data, protobufPrefix)
	if !ok {
		_, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, into)
		return err
	}
	if len(rest) == 0 {
		return errors.New("empty protobuf body")
	}
	var tm runtime.TypeMeta
	var raw []byte
	err := eachField(rest, func(num protowire.Number, typ protowire.Type, _, v []byte) error {
		switch {
		case num >= 1 && num <= 4 && typ != protowire.BytesType:
			return fmt.Errorf("field %d has wire type %d, want bytes", num, typ)
		case num == 1: // typeMeta
			if err := tm.Unmarshal(v); err != nil {
				return fmt.Errorf("type: %w", err)
			}
		case num == 2: // raw; contentEncoding and contentType are not read
			raw = v
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("protobuf envelope: %w", err)
	}
	// As the serializer reads the envelope's type: what it leaves out is
	// what was asked for.
	got := schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind)
	if got.Kind == "" {
		got.Kind = want.Kind
	}
	if got.Version == "" {
		got.Group, got.Version = want.Group, want.Version
	}
	if got != want {
		return fmt.Errorf("the response is a %s, not a %s", got, want)
	}
	m, ok := into.(interface{ Unmarshal([]byte) error })
	if !ok {
		return fmt.Errorf("%T has no protobuf encoding", into)
	}
	presizeItems(into, raw)
	dropManagedFields(raw)
	return m.Unmarshal(raw)
}

// Protobuf field numbers dropManagedFields reads: every built-in object
// has its ObjectMeta as field 1 (TestListEncoding checks the kinds a live
// scan lists).
const (
	objectMetaField    = 1
	managedFieldsField = 17 // of ObjectMeta
	// skippedField is a field number ObjectMeta does not use whose tag,
	// with the bytes wire type, is as long as managedFields': the decoder
	// skips what it tags without allocating.
	skippedField = 31
)

// dropManagedFields retags, in place, the managedFields entries of every
// item of a list's protobuf encoding, raw, as a field the decoder skips.
// liveObject drops them anyway, and decoding them (a copy of each
// entry's field set) was a tenth of what listing a cluster allocated.
// Where raw does not parse it stops, leaving the rest to the decoder.
func dropManagedFields(raw []byte) {
	_ = eachField(raw, func(num protowire.Number, typ protowire.Type, _, item []byte) error {
		if num != listItemsField || typ != protowire.BytesType {
			return nil
		}
		return eachField(item, func(num protowire.Number, typ protowire.Type, _, meta []byte) error {
			if num != objectMetaField || typ != protowire.BytesType {
				return nil
			}
			return eachField(meta, func(num protowire.Number, typ protowire.Type, tag, _ []byte) error {
				// A tag of other length (a varint padded out) is left
				// for the decoder: the retag must not move a byte.
				if num == managedFieldsField && typ == protowire.BytesType && len(tag) == protowire.SizeTag(skippedField) {
					protowire.AppendTag(tag[:0], skippedField, protowire.BytesType)
				}
				return nil
			})
		})
	})
}

// eachField calls f with the number, wire type, tag bytes and value (a
// bytes field's contents) of every field of msg, in order. It stops at
// f's first error, or where msg does not parse, and returns that error.
func eachField(msg []byte, f func(num protowire.Number, typ protowire.Type, tag, value []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		tag := msg[:n:n]
		msg = msg[n:]
		var value []byte
		var m int
		if typ == protowire.BytesType {
			value, m = protowire.ConsumeBytes(msg)
		} else if m = protowire.ConsumeFieldValue(num, typ, msg); m >= 0 {
			value = msg[:m]
		}
		if m < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(m))
		}
		if err := f(num, typ, tag, value); err != nil {
			return err
		}
		msg = msg[m:]
	}
	return nil
}

// presizeItems gives into's Items the capacity of the items in raw, its
// protobuf encoding: the generated decoder appends item after item, and
// growing a page of 500 Deployments by doubling copied them all about
// twice over. Every built-in list encodes its items as field 2
// (TestListEncoding); raw that does not parse is left to the decoder
// to refuse.
func presizeItems(into runtime.Object, raw []byte) {
	items := reflect.ValueOf(into).Elem().FieldByName("Items")
	if !items.IsValid() || items.Kind() != reflect.Slice || items.Len() > 0 {
		return
	}
	n := 0
	_ = eachField(raw, func(num protowire.Number, typ protowire.Type, _, _ []byte) error {
		if num == listItemsField && typ == protowire.BytesType {
			n++
		}
		return nil
	})
	if n > 0 {
		items.Set(reflect.MakeSlice(items.Type(), 0, n))
	}
}

// listItemsField is the protobuf field number of a built-in list's items.
const listItemsField = 2
