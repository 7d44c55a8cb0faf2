package analyzer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
)

// ContentHash returns the hex sha256 of the analyzer version and the normalized location. It covers
// every field of the model except each step's Raw (the input as written, which no rule reads), so two
// inputs that analyse the same have the same hash.
//
// The model is written field by field in a fixed order with length prefixes, rather than through
// encoding/json, because hashing runs on every analysis and reflection-based encoding cost more than
// half of all the rules together. TestContentHashCoversEveryField fails when a model field is added
// and not written here.
func ContentHash(loc *Location) string {
	e := hashEncoder{h: sha256.New(), buf: make([]byte, 0, hashChunk+1024)}
	e.str(Version)
	e.location(loc)
	e.h.Write(e.buf)
	return hex.EncodeToString(e.h.Sum(nil))
}

// hashChunk is how much encoded model the encoder buffers before feeding the hash, so a large
// location streams through a small buffer instead of growing one as big as itself.
const hashChunk = 16 << 10

// hashEncoder writes an unambiguous binary form of the model into a hash: strings and lists carry
// their length, and a nil list is told apart from an empty one (nil context lists mean unknown).
type hashEncoder struct {
	h   hash.Hash
	buf []byte
}

// flush feeds the buffered bytes to the hash once they reach hashChunk.
func (e *hashEncoder) flush() {
	if len(e.buf) >= hashChunk {
		e.h.Write(e.buf)
		e.buf = e.buf[:0]
	}
}

func (e *hashEncoder) uint(n uint64) { e.buf = binary.AppendUvarint(e.buf, n) }
func (e *hashEncoder) int(n int)     { e.buf = binary.AppendVarint(e.buf, int64(n)) }
func (e *hashEncoder) float(f float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

func (e *hashEncoder) str(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
	e.flush()
}

func (e *hashEncoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// present writes whether an optional part exists and reports it.
func (e *hashEncoder) present(ok bool) bool {
	e.bool(ok)
	return ok
}

// list writes a list's length, with nil distinct from empty, and reports how many items follow.
func (e *hashEncoder) list(isNil bool, n int) int {
	if isNil {
		e.buf = append(e.buf, 0)
		return 0
	}
	e.uint(uint64(n) + 1)
	return n
}

func (e *hashEncoder) strs(ss []string) {
	for _, s := range ss[:e.list(ss == nil, len(ss))] {
		e.str(s)
	}
}

func (e *hashEncoder) objects(os []Object) {
	for _, o := range os[:e.list(os == nil, len(os))] {
		e.str(o.ID)
		e.str(o.Name)
	}
}

func (e *hashEncoder) location(l *Location) {
	e.str(l.ID)
	e.bool(l.Complete)
	if e.present(l.Context != nil) {
		e.context(l.Context)
	}
	for i := range l.Workflows[:e.list(l.Workflows == nil, len(l.Workflows))] {
		e.workflow(&l.Workflows[i])
	}
}

func (e *hashEncoder) context(c *Context) {
	e.strs(c.Tags)
	for _, f := range c.CustomFields[:e.list(c.CustomFields == nil, len(c.CustomFields))] {
		e.str(f.ID)
		e.str(f.Name)
		e.str(f.Key)
		e.str(f.DataType)
	}
	for _, v := range c.CustomValues[:e.list(c.CustomValues == nil, len(c.CustomValues))] {
		e.str(v.ID)
		e.str(v.Name)
		e.str(v.Key)
		e.str(v.Value)
	}
	e.objects(c.Calendars)
	e.objects(c.Users)
	for _, p := range c.Pipelines[:e.list(c.Pipelines == nil, len(c.Pipelines))] {
		e.str(p.ID)
		e.str(p.Name)
		e.objects(p.Stages)
	}
	e.objects(c.Forms)
	e.objects(c.Surveys)
	e.objects(c.Templates)
	for _, p := range c.PhoneNumbers[:e.list(c.PhoneNumbers == nil, len(c.PhoneNumbers))] {
		e.str(p.Number)
		e.str(p.Name)
		e.bool(p.SMS)
		e.bool(p.IsDefault)
	}
	if s := c.SMSCompliance; e.present(s != nil) {
		e.bool(s.Enabled)
		e.bool(s.AutoAppendOptOut)
		e.str(s.OptOutMessage)
		e.bool(s.AppendSenderIdentification)
		e.str(s.SenderIdentification)
		e.str(s.ApplyTo)
		e.int(s.ReinsertAfterDays)
	}
}

func (e *hashEncoder) window(w *TimeWindow) {
	if e.present(w != nil) {
		for _, d := range w.Days[:e.list(w.Days == nil, len(w.Days))] {
			e.int(d)
		}
		e.str(w.Start)
		e.str(w.End)
	}
}

func (e *hashEncoder) duration(d *Duration) {
	if e.present(d != nil) {
		e.float(d.Value)
		e.str(d.Unit)
	}
}

func (e *hashEncoder) clauses(cs []Clause) {
	for _, c := range cs[:e.list(cs == nil, len(cs))] {
		e.str(c.Subject)
		e.str(c.Operator)
		e.str(c.Value)
	}
}

func (e *hashEncoder) workflow(w *Workflow) {
	e.str(w.ID)
	e.str(w.Name)
	e.str(w.Status)
	e.int(w.Version)
	e.str(w.LocationID)
	s := &w.Settings
	e.bool(s.AllowReEntry)
	e.bool(s.AllowMultipleOpportunity)
	e.bool(s.StopOnResponse)
	e.bool(s.RemoveContactFromLastStep)
	e.bool(s.AutoMarkAsRead)
	e.str(s.Timezone)
	e.window(s.TimeWindow)
	e.bool(s.Cloned)
	for _, t := range w.Triggers[:e.list(w.Triggers == nil, len(w.Triggers))] {
		e.str(t.ID)
		e.str(t.Type)
		e.str(t.RawType)
		e.bool(t.Known)
		e.str(t.Name)
		e.bool(t.Active)
		e.str(t.EntryStepID)
		for _, f := range t.Filters[:e.list(t.Filters == nil, len(t.Filters))] {
			e.str(f.Field)
			e.str(f.Operator)
			e.strs(f.Values)
		}
		e.unread(t.Unread)
	}
	for i := range w.Steps[:e.list(w.Steps == nil, len(w.Steps))] {
		e.step(&w.Steps[i])
	}
	for _, ed := range w.Edges[:e.list(w.Edges == nil, len(w.Edges))] {
		e.str(ed.From)
		e.str(ed.To)
		e.str(ed.Kind)
		e.str(ed.Label)
		e.str(ed.BranchID)
	}
	e.str(w.Root)
	e.str(w.Dialect)
}

func (e *hashEncoder) step(s *Step) {
	e.str(s.ID)
	e.str(s.Kind)
	e.str(s.Type)
	e.str(s.Name)
	if m := s.Message; e.present(m != nil) {
		e.str(m.Channel)
		e.str(m.Body)
		e.str(m.Subject)
		e.str(m.HTML)
		e.str(m.FromName)
		e.str(m.FromNumber)
		e.str(m.TemplateID)
		e.bool(m.Transactional)
	}
	if w := s.Wait; e.present(w != nil) {
		e.str(w.Mode)
		e.duration(w.Duration)
		if o := w.Offset; e.present(o != nil) {
			e.str(o.When)
			e.int(o.Minutes)
		}
		e.duration(w.Timeout)
		e.window(w.Window)
		e.clauses(w.Conditions)
	}
	if c := s.Condition; e.present(c != nil) {
		for _, b := range c.Branches[:e.list(c.Branches == nil, len(c.Branches))] {
			e.str(b.ID)
			e.str(b.Name)
			e.clauses(b.Clauses)
		}
	}
	if en := s.Enrollment; e.present(en != nil) {
		e.strs(en.WorkflowIDs)
		e.bool(en.All)
		e.bool(en.BareString)
	}
	e.strs(s.Tags)
	for _, f := range s.Fields[:e.list(s.Fields == nil, len(s.Fields))] {
		e.str(f.Field)
		e.str(f.Value)
	}
	if o := s.Opportunity; e.present(o != nil) {
		e.str(o.Op)
		e.str(o.PipelineID)
		e.str(o.StageID)
		e.str(o.Status)
		e.bool(o.Legacy)
	}
	if c := s.Contact; e.present(c != nil) {
		e.str(c.Op)
	}
	if a := s.Assign; e.present(a != nil) {
		e.strs(a.UserIDs)
		e.str(a.MergeField)
	}
	if h := s.Webhook; e.present(h != nil) {
		e.str(h.Method)
		e.str(h.URL)
		for _, hd := range h.Headers[:e.list(h.Headers == nil, len(h.Headers))] {
			e.str(hd.Key)
			e.str(hd.Value)
		}
		e.str(h.Body)
	}
	if g := s.Goal; e.present(g != nil) {
		e.str(g.Type)
		e.str(g.Value)
	}
	if d := s.DND; e.present(d != nil) {
		e.strs(d.Channels)
		e.bool(d.Enable)
	}
	e.str(s.GotoTarget)
	for _, r := range s.Refs[:e.list(s.Refs == nil, len(s.Refs))] {
		e.str(r.Kind)
		e.str(r.ID)
		e.str(r.Parent)
	}
	if sh := s.Shape; e.present(sh != nil) {
		e.str(sh.Next)
		e.int(sh.Targets)
		e.bool(sh.Router)
		e.int(sh.Branches)
	}
	e.unread(s.Unread)
}

func (e *hashEncoder) unread(us []Unread) {
	for _, u := range us[:e.list(us == nil, len(us))] {
		e.str(u.Path)
		e.str(u.Key)
	}
}
