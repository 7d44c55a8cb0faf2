package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// This file holds the small, lenient accessors the dialect readers use on decoded JSON. Structure
// (workflows, steps, next) is checked strictly by the readers and reported as *Error; attribute
// values are read leniently, because an odd attribute must not make a whole export unusable.

// fields is a JSON object whose values are still encoded, so a reader can keep the exact bytes of a
// part of the input (a step, a workflow) as well as decode it.
type fields map[string]json.RawMessage

// has reports whether the object holds key with a value other than null.
func (f fields) has(key string) bool {
	raw, ok := f[key]
	return ok && !isNull(raw)
}

// value decodes the value of key, or returns nil when it is absent or null.
func (f fields) value(key string) any {
	raw, ok := f[key]
	if !ok {
		return nil
	}
	return decodeValue(raw)
}

// obj is a decoded JSON object. Numbers are json.Number, so they keep the text the input wrote.
type obj map[string]any

// decodeValue decodes one JSON value that the caller already knows is valid. It returns nil for
// anything that does not decode, which cannot happen for bytes taken from a validated document.
func decodeValue(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

// decodeObject decodes raw as an object; ok is false when it is not one.
func decodeObject(raw json.RawMessage) (obj, bool) {
	m, ok := decodeValue(raw).(map[string]any)
	return m, ok
}

// eachElement calls fn with the elements of the JSON array raw, in order, until fn returns true. It
// decodes only as far as it goes, so detection can look at the first elements of a large array
// without reading the rest. It does nothing when raw is not an array.
func eachElement(raw json.RawMessage, fn func(json.RawMessage) bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return
	}
	for dec.More() {
		var el json.RawMessage
		if dec.Decode(&el) != nil || fn(el) {
			return
		}
	}
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// kindOf names the JSON type of raw for error messages: object, array, string, number, boolean or null.
func kindOf(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// compact returns raw without insignificant white space and with <, >, & and U+2028/U+2029 escaped
// inside strings, which is the form encoding/json writes a RawMessage in. Identical content gives
// identical bytes, and marshalling the model and importing it again leaves them unchanged.
func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		// Only validated input reaches here; keep the bytes as they are rather than lose them.
		return append(json.RawMessage(nil), raw...)
	}
	var out bytes.Buffer
	out.Grow(b.Len())
	json.HTMLEscape(&out, b.Bytes())
	return out.Bytes()
}

// asObj returns v as an object, or nil.
func asObj(v any) obj {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return nil
}

// get returns the value of the first key present with a non-null value.
func (o obj) get(keys ...string) any {
	for _, k := range keys {
		if v, ok := o[k]; ok && v != nil {
			return v
		}
	}
	return nil
}

// has reports whether any of keys is present with a non-null value.
func (o obj) has(keys ...string) bool {
	return o.get(keys...) != nil
}

// str returns the first of keys holding a non-empty scalar, as text.
func (o obj) str(keys ...string) string {
	for _, k := range keys {
		if s, ok := scalarString(o[k]); ok && s != "" {
			return s
		}
	}
	return ""
}

// child returns the first of keys holding an object.
func (o obj) child(keys ...string) obj {
	for _, k := range keys {
		if m := asObj(o[k]); m != nil {
			return m
		}
	}
	return nil
}

// list returns the first of keys present: an array as is, a scalar or object as a list of one.
func (o obj) list(keys ...string) []any {
	return asList(o.get(keys...))
}

// flag returns the first of keys holding something boolean-like, and whether one did.
func (o obj) flag(keys ...string) (value, ok bool) {
	for _, k := range keys {
		if b, ok := boolValue(o[k]); ok {
			return b, true
		}
	}
	return false, false
}

// truthy is flag without the presence bit.
func (o obj) truthy(keys ...string) bool {
	b, _ := o.flag(keys...)
	return b
}

// number returns the first of keys holding a number (or a numeric string).
func (o obj) number(keys ...string) (float64, bool) {
	for _, k := range keys {
		if f, ok := numberValue(o[k]); ok {
			return f, true
		}
	}
	return 0, false
}

// asList turns a scalar-or-array value into a list. GHL writes one value as a scalar and several as an
// array for the same field, and iterating a string would yield its characters.
func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

// scalarString formats a string, number or boolean as text. Numbers keep the text the input wrote.
func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	}
	return "", false
}

// boolValue reads booleans and the spellings GHL uses for them ("yes", "true", 1).
func boolValue(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "yes", "y", "on", "1", "enabled", "enable":
			return true, true
		case "false", "no", "n", "off", "0", "disabled", "disable", "":
			return false, true
		}
	case json.Number:
		f, err := t.Float64()
		if err == nil {
			return f != 0, true
		}
	}
	return false, false
}

// numberValue reads a number or a numeric string; NaN and infinities are refused.
func numberValue(v any) (float64, bool) {
	var f float64
	var err error
	switch t := v.(type) {
	case json.Number:
		f, err = t.Float64()
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(t), 64)
	case float64:
		f = t
	default:
		return 0, false
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// clampInt rounds f to an int within ±math.MaxInt32, so an absurd number in the input cannot
// overflow the conversion (whose result Go leaves to the platform).
func clampInt(f float64) int {
	return int(math.Round(max(min(f, math.MaxInt32), -math.MaxInt32)))
}

// idOf returns the identifier of a list item: the item itself when it is a scalar, or its id-like key
// when it is an object.
func idOf(v any) string {
	if s, ok := scalarString(v); ok {
		return s
	}
	if m := asObj(v); m != nil {
		return m.str("id", "_id", "value", "userId", "workflowId", "workflow_id", "key")
	}
	return ""
}

// stringList turns a scalar-or-array value into non-blank strings; objects contribute their id.
func stringList(v any) []string {
	var out []string
	for _, item := range asList(v) {
		if s := idOf(item); strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// valueList formats a filter or field value as a list of strings, never nil. Objects and nested arrays
// are kept as compact JSON so nothing is silently lost.
func valueList(v any) []string {
	out := []string{}
	for _, item := range asList(v) {
		if s, ok := scalarString(item); ok {
			out = append(out, s)
			continue
		}
		if item == nil {
			continue
		}
		out = append(out, jsonText(item))
	}
	return out
}

// valueText formats any value as one string: scalars as text, lists joined by commas, objects as JSON.
func valueText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case []any:
		return strings.Join(valueList(t), ",")
	}
	if s, ok := scalarString(v); ok {
		return s
	}
	return jsonText(v)
}

// jsonText encodes a decoded value as compact JSON text, without HTML escaping because the text is
// content (a webhook body), not a document. encoding/json sorts object keys, so it is deterministic.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// rawJSON encodes a decoded value as a raw document, in the same form as compact.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return compact(b)
}

// sortedKeys returns an object's keys in order, so slices built from objects do not depend on map
// iteration order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normKey lower-cases a type or key name and turns camelCase, dashes and spaces into underscores, so
// "ContactTagAdded", "contact-tag-added" and "contact_tag_added" compare equal. Dots are kept.
func normKey(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	prevLowerOrDigit := false
	pendingSep := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= 'A' && r <= 'Z':
			if prevLowerOrDigit {
				pendingSep = true
			}
			r += 'a' - 'A'
			prevLowerOrDigit = false
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			prevLowerOrDigit = true
		case r == '.':
			prevLowerOrDigit = false
			pendingSep = false
			b.WriteRune(r)
			continue
		default:
			if b.Len() > 0 {
				pendingSep = true
			}
			prevLowerOrDigit = false
			continue
		}
		if pendingSep && b.Len() > 0 {
			if last := b.String()[b.Len()-1]; last != '_' && last != '.' {
				b.WriteByte('_')
			}
		}
		pendingSep = false
		b.WriteRune(r)
	}
	return b.String()
}

// slug turns a display name into the key GHL merges it by: "RL Booking Link" becomes "rl_booking_link".
func slug(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteRune(r)
			continue
		}
		sep = true
	}
	return b.String()
}

// unbrace strips merge-field braces and the spaces inside them: "{{ custom_values.x }}" becomes
// "custom_values.x".
func unbrace(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") {
		t = strings.TrimSpace(t[2 : len(t)-2])
	}
	return t
}

// isMergeField reports whether s is resolved at send time ({{ ... }}) and so cannot be checked as an id.
func isMergeField(s string) bool {
	return strings.Contains(s, "{{")
}

// looksLikeID reports whether a field reference is a GHL object id rather than a key: ids are long
// runs of letters and digits (20 characters in practice) or UUIDs, while keys are snake_case words.
func looksLikeID(s string) bool {
	if len(s) < 16 || strings.ContainsAny(s, "._ {}") {
		return false
	}
	digitOrUpper := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			digitOrUpper = true
		case r >= 'a' && r <= 'z', r == '-':
		default:
			return false
		}
	}
	return digitOrUpper
}
