package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

func TestZZSmoke(t *testing.T) {
	if os.Getenv("SMOKE") == "" {
		t.Skip()
	}
	b, err := os.ReadFile(os.Getenv("SMOKE"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.Location.Workflows {
		r.Location.Workflows[i].Steps = stripRaw(r.Location.Workflows[i].Steps)
	}
	out, _ := json.MarshalIndent(r.Location, "", " ")
	fmt.Println(string(out))
}

func stripRaw(s []analyzer.Step) []analyzer.Step {
	for i := range s {
		s[i].Raw = nil
	}
	return s
}
