package analyzer_test

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// fillModel sets every field reachable from v to a distinct non-zero value: one item per list, every
// optional part present. Step.Raw is left out: the hash ignores it on purpose.
func fillModel(v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *seed))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*seed))
	case reflect.Float64:
		v.SetFloat(float64(*seed) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillModel(v.Elem(), seed)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillModel(v.Index(0), seed)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "Raw" {
				continue
			}
			fillModel(v.Field(i), seed)
		}
	default:
		panic("fillModel: unhandled kind " + v.Kind().String())
	}
}

// modelLeaves calls visit with the path of every leaf and of every list and optional part reachable
// from v; mutate changes the value at that path.
func modelLeaves(v reflect.Value, path string, visit func(path string)) {
	switch v.Kind() {
	case reflect.Pointer:
		visit(path)
		modelLeaves(v.Elem(), path, visit)
	case reflect.Slice:
		visit(path)
		for i := 0; i < v.Len(); i++ {
			modelLeaves(v.Index(i), fmt.Sprintf("%s[%d]", path, i), visit)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "Raw" {
				continue
			}
			modelLeaves(v.Field(i), path+"."+v.Type().Field(i).Name, visit)
		}
	default:
		visit(path)
	}
}

// at finds the value at a path produced by modelLeaves.
func at(v reflect.Value, path string) reflect.Value {
	for path != "" {
		switch {
		case v.Kind() == reflect.Pointer:
			v = v.Elem()
		case path[0] == '.':
			end := 1
			for end < len(path) && path[end] != '.' && path[end] != '[' {
				end++
			}
			v, path = v.FieldByName(path[1:end]), path[end:]
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			i, err := strconv.Atoi(path[1:end])
			if err != nil {
				panic(err)
			}
			v, path = v.Index(i), path[end+1:]
		}
	}
	return v
}

func fullLocation() *analyzer.Location {
	var loc analyzer.Location
	seed := 0
	fillModel(reflect.ValueOf(&loc).Elem(), &seed)
	return &loc
}

// TestContentHashCoversEveryField changes each field of a fully populated model in turn and requires
// the hash to change, so a field added to the model but not to the hash fails here. Lists are also
// emptied and optional parts removed: nil context lists mean unknown and must hash differently from
// empty ones.
func TestContentHashCoversEveryField(t *testing.T) {
	base := analyzer.ContentHash(fullLocation())
	require.Equal(t, base, analyzer.ContentHash(fullLocation()), "hash must be deterministic")
	var paths []string
	modelLeaves(reflect.ValueOf(fullLocation()).Elem(), "", func(p string) { paths = append(paths, p) })
	require.Greater(t, len(paths), 150)
	for _, p := range paths {
		loc := fullLocation()
		v := at(reflect.ValueOf(loc).Elem(), p)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "!")
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1000)
		case reflect.Float64:
			v.SetFloat(v.Float() + 1000)
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Pointer:
			v.Set(reflect.Zero(v.Type()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
		require.NotEqual(t, base, analyzer.ContentHash(loc), "changing %s does not change the content hash", p)
		if v.Kind() == reflect.Slice {
			v.Set(reflect.Zero(v.Type()))
			require.NotEqual(t, base, analyzer.ContentHash(loc), "making %s nil does not change the content hash", p)
			empty := fullLocation()
			at(reflect.ValueOf(empty).Elem(), p).Set(reflect.MakeSlice(v.Type(), 0, 0))
			require.NotEqual(t, analyzer.ContentHash(empty), analyzer.ContentHash(loc), "%s: nil and empty hash alike", p)
		}
	}
}

// TestContentHashIgnoresRaw: the raw input beside each step is kept for display, not analysed.
func TestContentHashIgnoresRaw(t *testing.T) {
	a, b := fullLocation(), fullLocation()
	b.Workflows[0].Steps[0].Raw = []byte(`{"anything":true}`)
	require.Equal(t, analyzer.ContentHash(a), analyzer.ContentHash(b))
}
