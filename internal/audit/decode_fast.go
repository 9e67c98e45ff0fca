package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// fastDecoder decodes the plain audit.k8s.io Event — by far the most
// common record — in one validating pass of a streaming tokenizer, where
// encoding/json validates the whole record first and then decodes it again
// by reflection (together ~60% of the pipeline's CPU).
//
// It decodes only what it can decode exactly as encoding/json would, and
// gives up otherwise: a key that could match a field case-insensitively, a
// duplicated field, a null, invalid UTF-8, an unexpected type, an envelope
// key. The caller then decodes the record with encoding/json, so the result
// never depends on which path ran (FuzzFastEvent compares the two). A
// fastDecoder is not safe for concurrent use; each worker has its own.
type fastDecoder struct {
	dec  *jsontext.Decoder
	buf  bytes.Buffer
	opts jsontext.Options
	// names holds the strings that repeat from event to event — users,
	// groups, addresses, resources, namespaces, annotations, object keys —
	// so that each is allocated once per decoder rather than once per
	// event: most of a log is a few identities reading a few resources.
	names map[string]string
}

// Bounds on fastDecoder.names: it starts over when full, so it follows
// what the log repeats now and never holds more than this.
const (
	maxNames   = 4096
	maxNameLen = 128
)

func newFastDecoder() *fastDecoder {
	// Duplicate names are checked per struct below; inside request and
	// response objects the last one wins, as with encoding/json.
	opts := jsontext.AllowDuplicateNames(true)
	return &fastDecoder{dec: jsontext.NewDecoder(bytes.NewReader(nil), opts), opts: opts, names: make(map[string]string)}
}

// errFallback means: not decodable here, decode with encoding/json.
var errFallback = errors.New("record needs encoding/json")

// The JSON names of K8sEvent's fields, in the order of eventField.
var eventNames = []string{"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
	"impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject",
	"responseObject", "timestamp", "requestReceivedTimestamp", "stageTimestamp", "annotations"}

// envelopeNames are the keys of the other top-level shapes (see envelope):
// a record carrying one is not a plain event.
var envelopeNames = []string{"items", "messageType", "logGroup", "logStream", "logEvents", "awslogs", "records",
	"recordId", "data", "category", "resourceId", "properties", "protoPayload", "message"}

var (
	userNames   = []string{"username", "uid", "groups", "extra"}
	objRefNames = []string{"resource", "namespace", "name", "uid", "apiGroup", "apiVersion", "subresource"}
	statusNames = []string{"status", "message", "reason", "code"}
)

// event decodes raw, one JSON object, into ev and reports whether it could.
// When it could not, ev holds garbage and must be reset by the caller.
func (f *fastDecoder) event(raw []byte, ev *K8sEvent) bool {
	// A bytes.Buffer is read in place, without a copy; the Buffer and the
	// options are the decoder's own, not allocated per event.
	f.buf = *bytes.NewBuffer(raw)
	f.dec.Reset(&f.buf, f.opts)
	err := f.object(eventNames, envelopeNames, func(i int) error {
		var err error
		switch i {
		case 0:
			ev.Kind, err = f.name()
		case 1:
			ev.APIVersion, err = f.name()
		case 2:
			ev.Level, err = f.name()
		case 3:
			ev.AuditID, err = f.str()
		case 4:
			ev.Stage, err = f.name()
		case 5:
			ev.RequestURI, err = f.str()
		case 6:
			ev.Verb, err = f.name()
		case 7:
			err = f.user(&ev.User)
		case 8:
			ev.ImpersonatedUser = new(UserInfo)
			err = f.user(ev.ImpersonatedUser)
		case 9:
			ev.SourceIPs, err = f.strs()
		case 10:
			ev.UserAgent, err = f.name()
		case 11:
			ev.ObjectRef = new(ObjectReference)
			err = f.objectRef(ev.ObjectRef)
		case 12:
			ev.ResponseStatus = new(Status)
			err = f.status(ev.ResponseStatus)
		case 13:
			ev.RequestObject, err = f.anyObject()
		case 14:
			ev.ResponseObject, err = f.anyObject()
		case 15:
			ev.Timestamp, err = f.str()
		case 16:
			ev.RequestReceivedTimestamp, err = f.str()
		case 17:
			ev.StageTimestamp, err = f.str()
		case 18:
			ev.Annotations, err = f.strMap()
		}
		return err
	})
	if err != nil {
		return false
	}
	// Like json.Unmarshal: nothing but whitespace may follow.
	_, err = f.dec.ReadToken()
	return err == io.EOF
}

// object reads an object whose known keys are names, calling field with
// the index of each. Other keys are skipped, as encoding/json skips them,
// unless they could match a name (or one of also) case-insensitively.
func (f *fastDecoder) object(names, also []string, field func(i int) error) error {
	if tok, err := f.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return errFallback
	}
	var seen uint64
	for f.dec.PeekKind() == '"' {
		k, err := f.dec.ReadValue()
		if err != nil {
			return err
		}
		key := k[1 : len(k)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return errFallback
		}
		i := indexName(names, key)
		if i < 0 {
			if nonASCII(key) || foldName(names, key) || foldName(also, key) {
				return errFallback
			}
			if err := f.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if seen&(1<<i) != 0 || f.dec.PeekKind() == 'n' {
			return errFallback
		}
		seen |= 1 << i
		if err := field(i); err != nil {
			return err
		}
	}
	tok, err := f.dec.ReadToken()
	if err != nil || tok.Kind() != '}' {
		return errFallback
	}
	return nil
}

func indexName(names []string, key []byte) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	return -1
}

func foldName(names []string, key []byte) bool {
	for _, n := range names {
		if strings.EqualFold(n, string(key)) {
			return true
		}
	}
	return false
}

func nonASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// str reads a string value.
func (f *fastDecoder) str() (string, error) {
	if f.dec.PeekKind() != '"' {
		return "", errFallback
	}
	v, err := f.dec.ReadValue()
	if err != nil {
		return "", err
	}
	return unquote(v)
}

// name reads a string value that is likely to repeat (see names).
func (f *fastDecoder) name() (string, error) {
	if f.dec.PeekKind() != '"' {
		return "", errFallback
	}
	v, err := f.dec.ReadValue()
	if err != nil {
		return "", err
	}
	b := v[1 : len(v)-1]
	if len(b) > maxNameLen || bytes.IndexByte(b, '\\') >= 0 {
		return unquote(v)
	}
	if s, ok := f.names[string(b)]; ok {
		return s, nil
	}
	s := internString(b)
	if len(f.names) >= maxNames {
		clear(f.names)
	}
	f.names[s] = s
	return s, nil
}

func unquote(v jsontext.Value) (string, error) {
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return internString(s), nil
	}
	b, err := jsontext.AppendUnquote(nil, v)
	return string(b), err
}

// internString returns the few values that repeat in every event without
// allocating them again.
func internString(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "Event":
		return "Event"
	case "audit.k8s.io/v1":
		return "audit.k8s.io/v1"
	case "Metadata":
		return "Metadata"
	case "Request":
		return "Request"
	case "RequestResponse":
		return "RequestResponse"
	case "ResponseComplete":
		return "ResponseComplete"
	case "ResponseStarted":
		return "ResponseStarted"
	case "RequestReceived":
		return "RequestReceived"
	case "get":
		return "get"
	case "list":
		return "list"
	case "watch":
		return "watch"
	case "create":
		return "create"
	case "update":
		return "update"
	case "patch":
		return "patch"
	case "delete":
		return "delete"
	case "v1":
		return "v1"
	case "allow":
		return "allow"
	case "system:authenticated":
		return "system:authenticated"
	}
	return string(b)
}

// strs reads an array of strings; [] gives an empty, non-nil slice.
func (f *fastDecoder) strs() ([]string, error) {
	if tok, err := f.dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return nil, errFallback
	}
	out := []string{}
	for f.dec.PeekKind() == '"' {
		s, err := f.name()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if tok, err := f.dec.ReadToken(); err != nil || tok.Kind() != ']' {
		return nil, errFallback
	}
	return out, nil
}

// strMap reads an object of strings; duplicate keys: the last one wins.
func (f *fastDecoder) strMap() (map[string]string, error) {
	if tok, err := f.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, errFallback
	}
	out := map[string]string{}
	for f.dec.PeekKind() == '"' {
		k, err := f.name()
		if err != nil {
			return nil, err
		}
		v, err := f.name()
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	if tok, err := f.dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return nil, errFallback
	}
	return out, nil
}

func (f *fastDecoder) user(u *UserInfo) error {
	return f.object(userNames, nil, func(i int) error {
		var err error
		switch i {
		case 0:
			u.Username, err = f.name()
		case 1:
			u.UID, err = f.name()
		case 2:
			u.Groups, err = f.strs()
		case 3:
			// Rare: left to encoding/json, on this value alone.
			var v jsontext.Value
			if v, err = f.dec.ReadValue(); err == nil {
				err = json.Unmarshal(v, &u.Extra)
			}
		}
		return err
	})
}

func (f *fastDecoder) objectRef(r *ObjectReference) error {
	return f.object(objRefNames, nil, func(i int) error {
		var err error
		switch i {
		case 0:
			r.Resource, err = f.name()
		case 1:
			r.Namespace, err = f.name()
		case 2:
			r.Name, err = f.name()
		case 3:
			r.UID, err = f.str()
		case 4:
			r.APIGroup, err = f.name()
		case 5:
			r.APIVersion, err = f.name()
		case 6:
			r.Subresource, err = f.name()
		}
		return err
	})
}

func (f *fastDecoder) status(s *Status) error {
	return f.object(statusNames, nil, func(i int) error {
		var err error
		switch i {
		case 0:
			s.Status, err = f.name()
		case 1:
			s.Message, err = f.str()
		case 2:
			s.Reason, err = f.name()
		case 3:
			if f.dec.PeekKind() != '0' {
				return errFallback
			}
			var v jsontext.Value
			if v, err = f.dec.ReadValue(); err != nil {
				return err
			}
			n, perr := strconv.ParseInt(string(v), 10, 32)
			if perr != nil {
				return errFallback
			}
			s.Code = int32(n)
		}
		return err
	})
}

// anyObject reads an object into the generic form encoding/json gives
// map[string]any: nested maps, []any, float64, string, bool and nil.
func (f *fastDecoder) anyObject() (map[string]any, error) {
	if f.dec.PeekKind() != '{' {
		return nil, errFallback
	}
	v, err := f.anyValue()
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func (f *fastDecoder) anyValue() (any, error) {
	switch f.dec.PeekKind() {
	case '{':
		if _, err := f.dec.ReadToken(); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for f.dec.PeekKind() == '"' {
			k, err := f.name()
			if err != nil {
				return nil, err
			}
			v, err := f.anyValue()
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		if tok, err := f.dec.ReadToken(); err != nil || tok.Kind() != '}' {
			return nil, errFallback
		}
		return m, nil
	case '[':
		if _, err := f.dec.ReadToken(); err != nil {
			return nil, err
		}
		l := []any{}
		for k := f.dec.PeekKind(); k != ']' && k != 0; k = f.dec.PeekKind() {
			v, err := f.anyValue()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		if tok, err := f.dec.ReadToken(); err != nil || tok.Kind() != ']' {
			return nil, errFallback
		}
		return l, nil
	case '"':
		return f.str()
	case '0':
		v, err := f.dec.ReadValue()
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, errFallback // out of float64 range: encoding/json reports it
		}
		return n, nil
	}
	tok, err := f.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case 'n':
		return nil, nil
	}
	return nil, errFallback
}
