package report

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-graphviz"
)

// The drawings are laid out by Graphviz's dot (layered, Sugiyama-style), compiled to WebAssembly and
// run by wazero through github.com/goccy/go-graphviz: no cgo, no network, no program to install.
// The report sends dot a graph of fixed-size boxes and reads back the positions (the "plain" output
// format); it draws the SVG itself, so the page's markup, text and links stay its own.
//
// go-graphviz compiles and instantiates the WebAssembly module once per process, in its package
// initialisation, and every graph and layout runs in that one module instance, which is not safe for
// concurrent use. The report therefore creates its Graphviz context once, on first use, and lets one
// layout run at a time (engine.mu).
var engine struct {
	once sync.Once
	mu   sync.Mutex
	gv   *graphviz.Graphviz
	err  error
}

// pointsPerInch converts Graphviz's inches to the drawings' units (CSS pixels at 1:1, like dot's
// points).
const pointsPerInch = 72

// layout is dot's placement of one graph, in points with the origin at the top left.
type layout struct {
	width, height float64
	nodes         map[string]placedNode
	edges         []placedEdge
}

// placedNode is a node's centre and size.
type placedNode struct {
	x, y, w, h float64
}

// placedEdge is an edge as dot routed it: a B-spline's control points and, when the edge has a
// label, the label's centre. Edges come in the order dot prints them.
type placedEdge struct {
	tail, head string
	points     []point
	labelAt    *point
}

type point struct{ x, y float64 }

// runDot lays out the graph written in the DOT language and returns dot's placement.
func runDot(ctx context.Context, dot []byte) (*layout, error) {
	engine.once.Do(func() {
		engine.gv, engine.err = graphviz.New(context.Background())
	})
	if engine.err != nil {
		return nil, fmt.Errorf("start graphviz: %w", engine.err)
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	graph, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("parse drawing: %w", err)
	}
	defer graph.Close()
	var out bytes.Buffer
	if err := engine.gv.Render(ctx, graph, "plain", &out); err != nil {
		return nil, fmt.Errorf("lay out drawing: %w", err)
	}
	return parsePlain(out.Bytes())
}

// parsePlain reads Graphviz's plain output format: "graph scale width height", then "node name x y
// width height label style shape color fillcolor" and "edge tail head n x1 y1 ... xn yn [label xl
// yl] style color" lines, then "stop". Units are inches with y growing upwards; the result is in
// points with y growing downwards, as SVG wants. Node names are the report's own (n1, t0...), so they
// never need quoting; labels may be quoted and are skipped.
func parsePlain(data []byte) (*layout, error) {
	l := &layout{nodes: map[string]placedNode{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	// Lines are short (an edge of a long spline is the longest); the buffer grows for one that is not.
	sc.Buffer(make([]byte, 0, 4<<10), 16<<20)
	num := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	for sc.Scan() {
		f := plainFields(sc.Text())
		if len(f) == 0 {
			continue
		}
		bad := fmt.Errorf("read layout: malformed %q line", f[0])
		switch f[0] {
		case "graph":
			if len(f) < 4 {
				return nil, bad
			}
			w, err1 := num(f[2])
			h, err2 := num(f[3])
			if err1 != nil || err2 != nil {
				return nil, bad
			}
			l.width, l.height = w*pointsPerInch, h*pointsPerInch
		case "node":
			if len(f) < 6 {
				return nil, bad
			}
			var v [4]float64
			for i := range v {
				x, err := num(f[2+i])
				if err != nil {
					return nil, bad
				}
				v[i] = x * pointsPerInch
			}
			l.nodes[f[1]] = placedNode{x: v[0], y: l.height - v[1], w: v[2], h: v[3]}
		case "edge":
			if len(f) < 4 {
				return nil, bad
			}
			n, err := strconv.Atoi(f[3])
			if err != nil || n < 2 || len(f) < 4+2*n {
				return nil, bad
			}
			e := placedEdge{tail: f[1], head: f[2], points: make([]point, n)}
			for i := range n {
				x, err1 := num(f[4+2*i])
				y, err2 := num(f[5+2*i])
				if err1 != nil || err2 != nil {
					return nil, bad
				}
				e.points[i] = point{x * pointsPerInch, l.height - y*pointsPerInch}
			}
			// A labelled edge carries its label and the label's position before style and color.
			if rest := f[4+2*n:]; len(rest) >= 5 {
				x, err1 := num(rest[1])
				y, err2 := num(rest[2])
				if err1 == nil && err2 == nil {
					e.labelAt = &point{x * pointsPerInch, l.height - y*pointsPerInch}
				}
			}
			l.edges = append(l.edges, e)
		case "stop":
			return l, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read layout: %w", err)
	}
	return nil, fmt.Errorf("read layout: no stop line")
}

// plainFields splits a line of the plain format into fields: separated by spaces, a field in double
// quotes may hold spaces and backslash-escaped quotes.
func plainFields(line string) []string {
	var out []string
	for i := 0; i < len(line); {
		switch {
		case line[i] == ' ':
			i++
		case line[i] == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				b.WriteByte(line[j])
			}
			out = append(out, b.String())
			i = j + 1
		default:
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			out = append(out, line[i:i+j])
			i += j
		}
	}
	return out
}

// dotString quotes s as a DOT string. The report only passes edge labels, cut short and stripped of
// what DOT would read as escapes or record syntax, so the label's size is what dot reserves.
func dotString(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\':
			return '\''
		case r < ' ':
			return ' '
		}
		return r
	}, s)
	return `"` + s + `"`
}
