package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// maxNULFields bounds how many fields a NUL problem lists, so a body full of them gets a short
// answer.
const maxNULFields = 10

// nulReason is the reason given for each field that holds a NUL character.
const nulReason = "must not contain the NUL character (U+0000)"

// The service refuses the NUL character (U+0000) in every string it is sent, in bodies (values and
// object keys, workflow documents included), query parameters and path parameters, with a 400 that
// names each field. PostgreSQL cannot store it in text or jsonb and SQLite can, so accepting it
// would make the same request succeed on one engine and fail on the other; stripping it would
// change what the caller sent without telling them. No GHL export has a reason to carry one.

// nulBodyFields returns the fields of a JSON body whose strings (values or keys) hold a NUL, in
// the validator's field notation ("workflows[0].name"), at most maxNULFields of them. data must be
// valid JSON. A body without the escape \u0000 is answered without decoding: JSON can carry a NUL
// only escaped.
func nulBodyFields(data []byte) []gen.InvalidField {
	if !bytes.Contains(data, []byte(`\u0000`)) {
		return nil
	}
	w := nulWalker{dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	if err := w.value(); err != nil && !errors.Is(err, errEnoughNULs) {
		// The body was checked to be valid JSON; a decoding error here means the walker and the
		// decoder disagree, and the validator will report the body as it sees it.
		return w.fields
	}
	return w.fields
}

// errEnoughNULs stops the walk once maxNULFields fields are found.
var errEnoughNULs = errors.New("enough NUL fields")

// nulWalker walks a JSON document token by token, keeping the path of the current value.
type nulWalker struct {
	dec    *json.Decoder
	path   []string
	fields []gen.InvalidField
}

func (w *nulWalker) found(path []string) error {
	w.fields = append(w.fields, gen.InvalidField{Field: fieldName(path), Location: gen.InvalidFieldLocationBody, Reason: nulReason})
	if len(w.fields) >= maxNULFields {
		return errEnoughNULs
	}
	return nil
}

// value walks one value at w.path.
func (w *nulWalker) value() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case string:
		if strings.IndexByte(t, 0) >= 0 {
			return w.found(w.path)
		}
	case json.Delim:
		switch t {
		case '{':
			for w.dec.More() {
				keyTok, err := w.dec.Token()
				if err != nil {
					return err
				}
				key, _ := keyTok.(string)
				// A key with a NUL is itself an offending string; it is named with the NUL
				// escaped, as JSON writes it.
				escaped := strings.ReplaceAll(key, "\x00", `\u0000`)
				w.path = append(w.path, escaped)
				if escaped != key {
					if err := w.found(w.path); err != nil {
						return err
					}
				}
				if err := w.value(); err != nil {
					return err
				}
				w.path = w.path[:len(w.path)-1]
			}
		case '[':
			for i := 0; w.dec.More(); i++ {
				w.path = append(w.path, strconv.Itoa(i))
				if err := w.value(); err != nil {
					return err
				}
				w.path = w.path[:len(w.path)-1]
			}
		}
		if _, err := w.dec.Token(); err != nil && !errors.Is(err, io.EOF) { // the closing delimiter
			return err
		}
	}
	return nil
}

// nulParameterFields returns the query and path parameters whose values hold a NUL.
func nulParameterFields(query map[string][]string, path map[string]string) []gen.InvalidField {
	var fields []gen.InvalidField
	for name, values := range query {
		for _, v := range values {
			if strings.IndexByte(v, 0) >= 0 || strings.IndexByte(name, 0) >= 0 {
				fields = append(fields, gen.InvalidField{Field: strings.ReplaceAll(name, "\x00", `\u0000`), Location: gen.InvalidFieldLocationQuery, Reason: nulReason})
				break
			}
		}
	}
	for name, v := range path {
		if strings.IndexByte(v, 0) >= 0 {
			fields = append(fields, gen.InvalidField{Field: name, Location: gen.InvalidFieldLocationPath, Reason: nulReason})
		}
	}
	return fields
}
