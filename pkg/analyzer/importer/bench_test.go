package importer_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// BenchmarkParse imports the auditor's broken account: 76 workflows, 86 KB.
func BenchmarkParse(b *testing.B) {
	data := mustReadFile(b, filepath.Join(samplesDir, "broken-account.json"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := importer.Parse(data, importer.Options{})
		if err != nil || len(res.Location.Workflows) != 76 {
			b.Fatalf("parse: %v", err)
		}
	}
}

// BenchmarkParseBuilderSteps imports one builder workflow of n steps (an if/else every tenth step), to
// show the cost grows linearly with steps.
func BenchmarkParseBuilderSteps(b *testing.B) {
	for _, n := range []int{100, 1000, 8000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			data := builderExport(largeTemplates(n), `{"type":"contact_tag","conditions":[{"field":"tagsAdded","operator":"index-of-true","value":"go"}]}`)
			res, err := importer.Parse(data, importer.Options{})
			require.NoError(b, err)
			require.Len(b, res.Location.Workflows[0].Steps, n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := importer.Parse(data, importer.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// largeTemplates builds n templates: SMS and waits in a chain, and every tenth step an if/else whose
// two branch nodes lead to the next step and to an SMS that goes back to the start.
func largeTemplates(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		id, next := fmt.Sprintf("s%d", i), fmt.Sprintf(`"s%d"`, i+1)
		if i == n-1 {
			next = "null"
		}
		switch {
		case i%10 == 9 && i < n-1:
			parts = append(parts,
				fmt.Sprintf(`{"id":%q,"type":"if_else","nodeType":"condition-node","next":["%s-y","%s-n"],"attributes":{"branches":[{"id":"%s-y","name":"Yes","segments":[{"conditions":[{"conditionType":"contact_detail","conditionSubType":"tags","conditionOperator":"index-of-true","conditionValue":["t%d"]}]}]}]}}`, id, id, id, id, i),
				fmt.Sprintf(`{"id":"%s-y","type":"if_else","nodeType":"branch-yes","next":[%s],"attributes":{"if":false}}`, id, next),
				fmt.Sprintf(`{"id":"%s-n","type":"if_else","nodeType":"branch-no","next":["s0"],"attributes":{"else":true}}`, id))
		case i%2 == 1:
			parts = append(parts, fmt.Sprintf(`{"id":%q,"type":"wait","attributes":{"type":"time","startAfter":{"type":"hours","value":%d}},"next":%s}`, id, i%24+1, next))
		default:
			parts = append(parts, fmt.Sprintf(`{"id":%q,"type":"sms","attributes":{"body":"Message %d {{contact.first_name}}"},"next":%s}`, id, i, next))
		}
	}
	return strings.Join(parts, ",")
}

// BenchmarkParseContext imports a bundle whose context holds n tags and n/10 each of calendars,
// users and forms, at two sizes tenfold apart (the larger is the 1.2 million tags a posted document
// once held), to show import time grows linearly with the context.
func BenchmarkParseContext(b *testing.B) {
	for _, n := range []int{120000, 1200000} {
		var doc strings.Builder
		doc.WriteString(`{"tags":[`)
		for i := range n {
			if i > 0 {
				doc.WriteByte(',')
			}
			fmt.Fprintf(&doc, `"t%d"`, i)
		}
		doc.WriteString(`]`)
		for _, key := range []string{"calendars", "users", "forms"} {
			fmt.Fprintf(&doc, `,%q:[`, key)
			for i := range n / 10 {
				if i > 0 {
					doc.WriteByte(',')
				}
				fmt.Fprintf(&doc, `{"id":"%s-%d","name":"N %d"}`, key, i, i)
			}
			doc.WriteString(`]`)
		}
		doc.WriteString(`,"workflows":[{"_id":"w","steps":[{"type":"sms","body":"hi"}]}]}`)
		data := []byte(doc.String())
		opts := importer.Options{MaxContextObjects: 2 * n}
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := importer.Parse(data, opts)
				if err != nil || len(res.Location.Context.Tags) != n {
					b.Fatalf("parse: %v", err)
				}
			}
		})
	}
}
