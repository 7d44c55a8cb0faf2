package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// Dialect names, as Result.Dialect and Workflow.Dialect report them.
const (
	// DialectBuilder is GHL's builder export: envelopes around workflowData.templates[] and triggers.
	DialectBuilder = "ghl-builder"
	// DialectBundle is the open-source ghl-workflow-auditor's bundle: workflows with steps and meta.
	DialectBundle = "auditor-bundle"
	// DialectNormalized is ghl-debugger's own normalized model (package analyzer).
	DialectNormalized = "normalized"
	// DialectMixed is what Merge reports when its inputs were read from different dialects.
	DialectMixed = "mixed"
)

// Default limits. They bound the work one input can cause; the HTTP API answers 413 or 422 naming
// the limit when an input goes over one.
const (
	// DefaultMaxWorkflows is the most workflows one input may hold.
	DefaultMaxWorkflows = 1000
	// DefaultMaxStepsPerWorkflow is the most steps one workflow may hold, counting every builder
	// template (branch and transition nodes included) and every inline bundle action.
	DefaultMaxStepsPerWorkflow = 10000
	// DefaultMaxDepth is the deepest nesting of JSON arrays and objects accepted. Real exports nest
	// about 15 levels; the bound keeps every reader's recursion shallow.
	DefaultMaxDepth = 64
	// DefaultMaxContextObjects is the most location-context objects one input may describe, counted
	// over all its lists together (see Options.MaxContextObjects). Large GHL accounts have a few
	// thousand tags and a few hundred of everything else; 100,000 leaves room for the largest while
	// bounding what a request body can make the analyzer hold (a 10 MiB body of short tags carries
	// about a million).
	DefaultMaxContextObjects = 100000
)

// Limit names, as LimitError.Limit reports them. They are the Options field names.
const (
	LimitWorkflows = "MaxWorkflows"
	LimitSteps     = "MaxStepsPerWorkflow"
	LimitDepth     = "MaxDepth"
	LimitContext   = "MaxContextObjects"
)

// Options bounds what Parse accepts. A zero or negative field takes its default.
type Options struct {
	// MaxWorkflows is the most workflows the input may hold (default DefaultMaxWorkflows).
	MaxWorkflows int
	// MaxStepsPerWorkflow is the most steps one workflow may hold (default DefaultMaxStepsPerWorkflow).
	MaxStepsPerWorkflow int
	// MaxDepth is the deepest JSON nesting accepted (default DefaultMaxDepth). It is checked on the raw
	// bytes before anything is decoded.
	MaxDepth int
	// MaxContextObjects is the most location-context objects the input may describe, in total over
	// every context it holds (an array of builder exports may carry one each) and over all their
	// lists: tags, custom fields, custom values, calendars, users, pipelines, the stages of every
	// pipeline, forms, surveys, templates (email and SMS together) and phone numbers (default
	// DefaultMaxContextObjects). Entries of a list are counted as written, before empty ones are
	// dropped. Going over is a *LimitError whose Path names the list where the count went over.
	MaxContextObjects int
}

// DefaultOptions returns the default limits.
func DefaultOptions() Options {
	return Options{
		MaxWorkflows:        DefaultMaxWorkflows,
		MaxStepsPerWorkflow: DefaultMaxStepsPerWorkflow,
		MaxDepth:            DefaultMaxDepth,
		MaxContextObjects:   DefaultMaxContextObjects,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxWorkflows > 0 {
		d.MaxWorkflows = o.MaxWorkflows
	}
	if o.MaxStepsPerWorkflow > 0 {
		d.MaxStepsPerWorkflow = o.MaxStepsPerWorkflow
	}
	if o.MaxDepth > 0 {
		d.MaxDepth = o.MaxDepth
	}
	if o.MaxContextObjects > 0 {
		d.MaxContextObjects = o.MaxContextObjects
	}
	return d
}

// Result is one imported input.
type Result struct {
	// Location is the normalized model of everything the input held.
	Location *analyzer.Location
	// Raw holds one document per workflow, in the same order as Location.Workflows: the workflow as
	// imported, compacted. For the builder dialect it is {"source", "workflow", "triggers"} (the parts
	// the envelope had); for the other dialects the workflow object itself.
	Raw []json.RawMessage
	// Dialect is the input's dialect (one of the Dialect constants).
	Dialect string
}

// Error is an input that cannot be used: not JSON, a shape no dialect has, a builder step without an
// id, duplicated ids, a next of the wrong type. Path is a JSON path to the offending value, such as
// $.workflows[2].workflow.workflowData.templates[5].next.
type Error struct {
	Path    string
	Message string
}

// Error returns "PATH: MESSAGE".
func (e *Error) Error() string { return e.Path + ": " + e.Message }

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Message: fmt.Sprintf(format, args...)}
}

// LimitError is an input over one of the Options limits. Limit is one of the Limit constants.
type LimitError struct {
	Limit string
	Max   int
	// Got is how many the input had when reading stopped: a lower bound when the importer stops
	// counting at the first item over the limit (workflows, context objects).
	Got int
	// Path is the JSON path of the part of the input where the count went over, such as
	// $.context.tags for MaxContextObjects; empty when the limit is about the whole input.
	Path string
}

// Error names the limit, where the input went over it when known, and both numbers.
func (e *LimitError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("input exceeds %s at %s: %d > %d", e.Limit, e.Path, e.Got, e.Max)
	}
	return fmt.Sprintf("input exceeds %s: %d > %d", e.Limit, e.Got, e.Max)
}

// utf8BOM is skipped at the start of the input: editors on Windows write it and it is not JSON.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse detects the input's dialect and reads it into the normalized model. Errors are *Error for
// input that cannot be used and *LimitError for input over a limit. Unknown keys, step types and
// trigger types are not errors: they are kept (Kind unknown, Known false) for the analyzer to report.
func Parse(data []byte, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	data = bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errorf("$", "empty input: expected a JSON object or array")
	}
	if d := maxNesting(data); d > opts.MaxDepth {
		return nil, &LimitError{Limit: LimitDepth, Max: opts.MaxDepth, Got: d}
	}
	p := &parser{opts: opts}
	switch trimmed[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, jsonError(data, err)
		}
		return p.builderArray(items)
	case '{':
		var top fields
		if err := json.Unmarshal(data, &top); err != nil {
			return nil, jsonError(data, err)
		}
		return p.object(top, data)
	default:
		if !json.Valid(data) {
			var v any
			return nil, jsonError(data, json.Unmarshal(data, &v))
		}
		return nil, errorf("$", "expected a JSON object or array, got %s", kindOf(trimmed))
	}
}

// parser carries the limits through one Parse call.
type parser struct {
	opts      Options
	workflows int
	// contextObjects counts the context objects read so far, for MaxContextObjects.
	contextObjects int
}

// countContext adds n objects of the context list at path to the input's total and enforces
// MaxContextObjects.
func (p *parser) countContext(n int, path string) error {
	p.contextObjects += n
	if p.contextObjects > p.opts.MaxContextObjects {
		return &LimitError{Limit: LimitContext, Max: p.opts.MaxContextObjects, Got: p.contextObjects, Path: path}
	}
	return nil
}

// countWorkflows adds n workflows to the input's total and enforces MaxWorkflows.
func (p *parser) countWorkflows(n int) error {
	p.workflows += n
	if p.workflows > p.opts.MaxWorkflows {
		return &LimitError{Limit: LimitWorkflows, Max: p.opts.MaxWorkflows, Got: p.workflows}
	}
	return nil
}

// checkSteps enforces MaxStepsPerWorkflow for one workflow.
func (p *parser) checkSteps(n int) error {
	if n > p.opts.MaxStepsPerWorkflow {
		return &LimitError{Limit: LimitSteps, Max: p.opts.MaxStepsPerWorkflow, Got: n}
	}
	return nil
}

// object dispatches a top-level object to its dialect, in the order the package documentation gives.
func (p *parser) object(top fields, raw json.RawMessage) (*Result, error) {
	switch {
	case top.has("$schema"):
		return p.builderEnvelope(top, raw)
	case top.has("workflowData"):
		return p.builderEnvelope(top, raw)
	case isBuilderEnvelope(top):
		return p.builderEnvelope(top, raw)
	case top.has("workflows"):
		if isNormalizedLocation(top) {
			return p.normalizedLocation(top)
		}
		return p.bundle(top)
	case top.has("steps"):
		if isNormalizedWorkflow(top) {
			return p.normalizedWorkflow(top, raw)
		}
		return p.bundleWorkflow(top, raw)
	}
	return nil, errorf("$", "unknown input dialect: expected a GHL builder export (\"workflow\" or "+
		"\"workflows\" with \"workflowData\"), an auditor bundle (\"workflows\" with \"steps\") or a "+
		"normalized location (\"workflows\" with \"edges\")")
}

// jsonError turns a decoding error into an *Error that names the line and column of a syntax error.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// Offset counts the bytes read including the offending one; name that byte's position.
		line, col := lineCol(data, int(syn.Offset)-1)
		return errorf("$", "invalid JSON at line %d, column %d: %s", line, col, syn.Error())
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return errorf("$", "expected a JSON object or array, got %s", typ.Value)
	}
	return errorf("$", "invalid JSON: %v", err)
}

// lineCol returns the 1-based line and column of the byte at offset off, counting columns in
// characters as editors do.
func lineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = 1 + utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return line, col
}

// maxNesting returns the deepest nesting of arrays and objects in data, scanning the bytes without
// decoding them, so a hostile input is refused before any decoder recurses into it.
func maxNesting(data []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return deepest
}

// newLocation returns an empty location whose workflow list marshals as [] rather than null.
func newLocation() *analyzer.Location {
	return &analyzer.Location{Workflows: []analyzer.Workflow{}}
}

// Merge combines several results into one location, as when the command line analyses several files
// together: workflows are concatenated in argument order, each context key takes the first input that
// knows it, the location id is the first one given, and the location is complete when any input is.
// Nil results are skipped. Duplicated workflow ids across inputs are kept; the analyzer keeps the
// first of them.
func Merge(results ...*Result) *Result {
	out := &Result{Location: newLocation(), Raw: []json.RawMessage{}}
	for _, r := range results {
		if r == nil || r.Location == nil {
			continue
		}
		loc := r.Location
		switch {
		case out.Dialect == "":
			out.Dialect = r.Dialect
		case out.Dialect != r.Dialect:
			out.Dialect = DialectMixed
		}
		if out.Location.ID == "" {
			out.Location.ID = loc.ID
		}
		out.Location.Complete = out.Location.Complete || loc.Complete
		out.Location.Context = mergeContext(out.Location.Context, loc.Context)
		out.Location.Workflows = append(out.Location.Workflows, loc.Workflows...)
		out.Raw = append(out.Raw, r.Raw...)
	}
	return out
}

// mergeContext fills every key of dst that is unknown (nil) from src. It never modifies src.
func mergeContext(dst, src *analyzer.Context) *analyzer.Context {
	if src == nil {
		return dst
	}
	if dst == nil {
		c := *src
		return &c
	}
	fill(&dst.Tags, src.Tags)
	fill(&dst.CustomFields, src.CustomFields)
	fill(&dst.CustomValues, src.CustomValues)
	fill(&dst.Calendars, src.Calendars)
	fill(&dst.Users, src.Users)
	fill(&dst.Pipelines, src.Pipelines)
	fill(&dst.Forms, src.Forms)
	fill(&dst.Surveys, src.Surveys)
	fill(&dst.Templates, src.Templates)
	fill(&dst.PhoneNumbers, src.PhoneNumbers)
	if dst.SMSCompliance == nil {
		dst.SMSCompliance = src.SMSCompliance
	}
	return dst
}

func fill[T any](dst *[]T, src []T) {
	if *dst == nil && src != nil {
		*dst = src
	}
}
