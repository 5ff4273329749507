package policy

import (
	"net/textproto"
	"sort"
	"strings"
)

// Fields is the header of a message being edited; fasthttp's RequestHeader and
// ResponseHeader have these methods. Called on the request's goroutine only; a value is read
// during the call and must not be kept or modified (fasthttp copies it).
type Fields interface {
	SetBytesV(name string, value []byte)
	AddBytesV(name string, value []byte)
	Del(name string)
}

// FieldsDropper is Fields that can remove several names (any spelling) in one pass over the
// message. Apply uses it when h has it: a route's removes and sets then cost one walk over
// the fields instead of one per name, which is most of what 5 rules cost on a cache hit.
// Called on the request's goroutine only.
type FieldsDropper interface {
	Fields
	// DelAll removes every field whose name equals one of names, case-insensitively.
	DelAll(names []string)
}

// FieldEdits is one message's field rules compiled, in a stable order.
type FieldEdits struct {
	remove []string
	set    []fieldValue
	add    []fieldValue
	drop   []string        // remove, then the set names not removed already: for DelAll
	uses   map[string]bool // variables named by any value
	// perRequest names the set and add fields whose value holds ${client_ip} or
	// ${request_id}: they differ between requests that share a cache key (PerRequest).
	perRequest []string
}

type fieldValue struct {
	name  string
	value Template
	lit   []byte // the value when it names no variable (isLit): handed over as is, not expanded
	isLit bool
}

func compileFields(c FieldRules) (*FieldEdits, error) {
	if len(c.Set) == 0 && len(c.Add) == 0 && len(c.Remove) == 0 {
		return nil, nil
	}
	e := &FieldEdits{uses: map[string]bool{}}
	for _, name := range c.Remove {
		e.remove = append(e.remove, textproto.CanonicalMIMEHeaderKey(name))
	}
	var err error
	if e.set, err = e.values(c.Set); err != nil {
		return nil, err
	}
	if e.add, err = e.values(c.Add); err != nil {
		return nil, err
	}
	e.drop = append(e.drop, e.remove...)
	for _, f := range e.set {
		if !containsFold(e.drop, f.name) {
			e.drop = append(e.drop, f.name)
		}
	}
	return e, nil
}

func (e *FieldEdits) values(m map[string]string) ([]fieldValue, error) {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]fieldValue, 0, len(names))
	for _, name := range names {
		t, err := ParseTemplate(m[name], false)
		if err != nil {
			return nil, err
		}
		for v := range variables {
			if t.Uses(v) {
				e.uses[v] = true
			}
		}
		f := fieldValue{name: textproto.CanonicalMIMEHeaderKey(name), value: t}
		if c, ok := t.Constant(); ok {
			f.lit, f.isLit = []byte(c), true
		}
		if t.Uses("client_ip") || t.Uses("request_id") {
			e.perRequest = append(e.perRequest, f.name)
		}
		out = append(out, f)
	}
	return out, nil
}

// Variables reports whether any value names a variable: without, Apply needs no Vars.
func (e *FieldEdits) Variables() bool { return e != nil && len(e.uses) > 0 }

// Names lists every field name the edits remove, set or add (canonical spelling, a name
// may repeat): a writer that renders them into a head once checks that none of them is a
// field it writes per response.
func (e *FieldEdits) Names() []string {
	if e == nil {
		return nil
	}
	out := append([]string(nil), e.drop...)
	for _, f := range e.add {
		out = append(out, f.name)
	}
	return out
}

// PerRequest lists the fields the edits set or add with a value of the request's own
// (${client_ip}, ${request_id}); the other variables (host, path, node) are the same for
// every request of a cache key. The cache must not share a response that varies on one: its
// key reads the client's fields, not these. Read-only.
func (e *FieldEdits) PerRequest() []string {
	if e == nil {
		return nil
	}
	return e.perRequest
}

// Uses reports whether a value names the variable, so the edge computes only what is used.
func (e *FieldEdits) Uses(name string) bool { return e != nil && e.uses[name] }

// Apply edits h: removes, then sets, then adds. buf is scratch space for expanded values and
// is returned for reuse; with constant values nothing is allocated. When h is a
// FieldsDropper, the removed and the set names go in one DelAll and the set values are
// added after it, which is the same edit.
func (e *FieldEdits) Apply(h Fields, v *Vars, buf []byte) []byte {
	if e == nil {
		return buf
	}
	if d, ok := h.(FieldsDropper); ok {
		d.DelAll(e.drop)
		for i := range e.set {
			h.AddBytesV(e.set[i].name, e.set[i].expand(&buf, v))
		}
	} else {
		for _, name := range e.remove {
			h.Del(name)
		}
		for i := range e.set {
			h.SetBytesV(e.set[i].name, e.set[i].expand(&buf, v))
		}
	}
	for i := range e.add {
		h.AddBytesV(e.add[i].name, e.add[i].expand(&buf, v))
	}
	return buf
}

// expand is the value to hand to Fields: the constant itself, or the template expanded into
// *buf. Fields only read a value during the call, so the constant is never written to.
func (f *fieldValue) expand(buf *[]byte, v *Vars) []byte {
	if f.isLit {
		return f.lit
	}
	*buf = f.value.Append((*buf)[:0], v)
	return *buf
}

// Describe lists the edits as text lines, for /stats.
func (e *FieldEdits) Describe() []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, n := range e.remove {
		out = append(out, "remove "+n)
	}
	for _, f := range e.set {
		out = append(out, "set "+f.name+": "+f.value.String())
	}
	for _, f := range e.add {
		out = append(out, "add "+f.name+": "+f.value.String())
	}
	return out
}

func containsFold(list []string, name string) bool {
	for _, l := range list {
		if strings.EqualFold(l, name) {
			return true
		}
	}
	return false
}
