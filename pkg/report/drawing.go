package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// Drawing sizes, in points (CSS pixels). Boxes have a fixed size so that the report, not dot,
// decides how text fits: names longer than a box holds are cut and shown whole in the box's title.
const (
	boxWidth      = 220.0
	boxHeight     = 46.0
	triggerHeight = 40.0
	markerSize    = 18.0
	markerGap     = 4.0
	markersPerRow = 9
	markerRowH    = markerSize + markerGap
	// bandHeight is the strip above a drawing that holds the markers of findings about the whole
	// workflow rather than one step.
	bandHeight = 30.0
	padding    = 8.0
	// nameRunes is how much of a name a box shows.
	nameRunes = 27
	// kindRunes is how much of the second, smaller line a box shows.
	kindRunes = 34
	// labelRunes is how much of a branch name an edge label shows.
	labelRunes = 22
	// minRun is the shortest run of plain steps (one way in, one way out, no finding) drawn as one
	// box, so a long workflow stays legible: a 300-step sequence becomes a handful of boxes.
	minRun = 4
)

// drawing is one inline SVG: a workflow's flowchart or the location's cross-workflow graph.
type drawing struct {
	// ID prefixes the ids of the drawing's title and description.
	ID            string
	Title, Desc   string
	Width, Height string
	ViewBox       string
	Nodes         []drawnNode
	Edges         []drawnEdge
	// Band holds the markers of findings about the whole workflow, drawn above the chart.
	Band []drawnMarker
	// BandLabel captions the band ("Whole workflow"); BandY is its baseline.
	BandLabel, BandY string
}

// drawnNode is a box with its text, its markers and, for the cross-workflow graph, a link.
type drawnNode struct {
	Class      string
	X, Y, W, H string
	// TextX is the left of the text; NameY and KindY its two baselines.
	TextX, NameY, KindY string
	Name, Kind          string
	// Tooltip is the node's whole name and kind, for the title the browser shows on hover.
	Tooltip string
	Href    string
	Markers []drawnMarker
}

// drawnMarker is a finding's marker: a shape and a letter by severity, linking to the finding.
type drawnMarker struct {
	ID, Href, Class, Label string
	// Shape is an SVG path for the marker's outline (octagon, triangle or circle by severity).
	Shape  string
	Letter string
	TextX  string
	TextY  string
}

// drawnEdge is a routed edge with its arrowhead and optional label.
type drawnEdge struct {
	Class          string
	Path           string
	Arrow          string
	Label          string
	LabelX, LabelY string
}

// marker is a finding to mark on a drawing.
type marker struct {
	n        int
	severity string
	label    string
}

// chartNode is a node of a workflow's chart before layout: a trigger, a step, or a run of steps.
type chartNode struct {
	name, class, kind, tooltip string
	// href links the node elsewhere on the page (the cross-workflow graph's workflows).
	href    string
	height  float64
	markers []marker
	trigger bool
}

type chartEdge struct {
	from, to int
	label    string
	class    string
}

// workflowChart builds the flowchart of wf: triggers on top, each leading to its entry step; steps
// with their outgoing edges, branches labelled; edges that close a loop marked and labelled;
// unreachable steps greyed; long runs of plain steps collapsed. byStep holds the markers of the
// findings at each step id; onWorkflow those about the whole workflow (trigger findings are moved
// onto the trigger they name when exactly one trigger's name is quoted in the message).
func workflowChart(id string, wf *analyzer.Workflow, byStep map[string][]marker, onWorkflow []marker, messages map[int]string) *chart {
	n := len(wf.Steps)
	pos := make(map[string]int, n)
	for i := range wf.Steps {
		if _, dup := pos[wf.Steps[i].ID]; !dup {
			pos[wf.Steps[i].ID] = i
		}
	}
	out := make([][]int, n)
	in := make([]int, n)
	for ei, e := range wf.Edges {
		from, ok1 := pos[e.From]
		to, ok2 := pos[e.To]
		if ok1 && ok2 {
			out[from] = append(out[from], ei)
			in[to]++
		}
	}
	// Entries: each trigger's entry step, or the root.
	entryOf := make([]int, len(wf.Triggers))
	var entries []int
	isEntry := make([]bool, n)
	addEntry := func(sid string) int {
		i, ok := pos[sid]
		if !ok {
			return -1
		}
		if !isEntry[i] {
			isEntry[i] = true
			entries = append(entries, i)
		}
		return i
	}
	for ti, t := range wf.Triggers {
		entryOf[ti] = addEntry(cmp.Or(t.EntryStepID, wf.Root))
	}
	addEntry(wf.Root)
	reach, back := walkSteps(wf, pos, out, entries)

	// Trigger findings move onto the trigger their message names, when it names exactly one.
	triggerMarks := make([][]marker, len(wf.Triggers))
	var band []marker
	for _, m := range onWorkflow {
		ti := namedTrigger(wf.Triggers, messages[m.n])
		if ti < 0 {
			band = append(band, m)
			continue
		}
		triggerMarks[ti] = append(triggerMarks[ti], m)
	}

	// Collapse runs of plain steps.
	plain := make([]bool, n)
	for i := range wf.Steps {
		s := &wf.Steps[i]
		plain[i] = !isEntry[i] && in[i] == 1 && len(out[i]) == 1 && len(byStep[s.ID]) == 0 &&
			wf.Edges[out[i][0]].Kind == analyzer.EdgeNext && wf.Edges[out[i][0]].Label == "" && !back[out[i][0]]
	}
	next := func(i int) int { return pos[wf.Edges[out[i][0]].To] }
	group := make([]int, n) // step index -> chart node index
	for i := range group {
		group[i] = -1
	}
	var nodes []chartNode
	for ti, t := range wf.Triggers {
		class := "trigger"
		if !t.Active {
			class += " inactive"
		}
		name := cmp.Or(t.Name, t.Type)
		kind := "Trigger: " + humanize(cmp.Or(t.RawType, t.Type))
		if !t.Active {
			kind += " (inactive)"
		}
		nodes = append(nodes, chartNode{name: name, class: class, kind: kind, tooltip: name + " — " + kind,
			height: triggerHeight + markerRows(len(triggerMarks[ti])), markers: triggerMarks[ti], trigger: true})
	}
	predPlain := make([]bool, n)
	for i := range wf.Steps {
		if plain[i] {
			predPlain[next(i)] = true
		}
	}
	for i := range wf.Steps {
		if group[i] >= 0 || !plain[i] || predPlain[i] {
			continue
		}
		// i starts a run: walk while the steps stay plain.
		run := []int{i}
		for j := next(i); plain[j] && group[j] < 0 && j != i && len(run) < n; j = next(j) {
			run = append(run, j)
		}
		if len(run) < minRun {
			continue
		}
		first, last := &wf.Steps[run[0]], &wf.Steps[run[len(run)-1]]
		class := "run"
		if !reach[run[0]] {
			class += " unreachable"
		}
		node := len(nodes)
		nodes = append(nodes, chartNode{
			name:    fmt.Sprintf("%d steps in a row", len(run)),
			kind:    "from " + cut(stepName(first), 13) + " to " + cut(stepName(last), 13),
			class:   class,
			tooltip: fmt.Sprintf("%d steps in a row, from %s to %s, with no branch and no finding", len(run), stepName(first), stepName(last)),
			height:  boxHeight,
		})
		for _, j := range run {
			group[j] = node
		}
	}
	for i := range wf.Steps {
		if group[i] >= 0 {
			continue
		}
		s := &wf.Steps[i]
		if pos[s.ID] != i {
			// A duplicated id: the workflow's edges reach only the first step with it.
			continue
		}
		class := "step"
		kind := stepKind(s)
		if !reach[i] {
			class += " unreachable"
			kind += " · unreachable"
		}
		marks := byStep[s.ID]
		group[i] = len(nodes)
		nodes = append(nodes, chartNode{name: stepName(s), kind: kind, class: class, tooltip: stepName(s) + " — " + kind,
			height: boxHeight + markerRows(len(marks)), markers: marks})
	}

	var edges []chartEdge
	for ti := range wf.Triggers {
		if entryOf[ti] >= 0 {
			edges = append(edges, chartEdge{from: ti, to: group[entryOf[ti]], class: "edge"})
		}
	}
	for i := range wf.Steps {
		for _, ei := range out[i] {
			e := wf.Edges[ei]
			from, to := group[i], group[pos[e.To]]
			if from < 0 || to < 0 || (from == to && !back[ei]) {
				// Inside a collapsed run, or from a step shadowed by a duplicated id.
				continue
			}
			ce := chartEdge{from: from, to: to, label: edgeLabel(e), class: "edge " + e.Kind}
			if back[ei] {
				ce.class += " back"
				ce.label = strings.TrimSpace("↺ loop " + ce.label)
			}
			edges = append(edges, ce)
		}
	}

	return &chart{
		id: id, nodes: nodes, edges: edges, band: band, bandLabel: "Whole workflow",
		title: "Flowchart of workflow " + strconv.Quote(cmp.Or(wf.Name, wf.ID)),
		desc:  chartDesc(wf, reach, back, len(nodes)-len(wf.Triggers) < n),
	}
}

// walkSteps marks the steps reachable from the entries and the edges that close a loop (back edges
// of a depth-first search from the entries, then from the unreachable steps in order).
func walkSteps(wf *analyzer.Workflow, pos map[string]int, out [][]int, entries []int) (reach, back []bool) {
	n := len(wf.Steps)
	reach = make([]bool, n)
	back = make([]bool, len(wf.Edges))
	state := make([]uint8, n) // 0 new, 1 on the stack, 2 done
	type frame struct{ v, k int }
	visit := func(root int, mark bool) {
		if state[root] != 0 {
			return
		}
		stack := []frame{{root, 0}}
		state[root] = 1
		reach[root] = reach[root] || mark
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.k == len(out[f.v]) {
				state[f.v] = 2
				stack = stack[:len(stack)-1]
				continue
			}
			ei := out[f.v][f.k]
			f.k++
			w := pos[wf.Edges[ei].To]
			switch state[w] {
			case 0:
				state[w] = 1
				reach[w] = reach[w] || mark
				stack = append(stack, frame{w, 0})
			case 1:
				back[ei] = true
			}
		}
	}
	for _, e := range entries {
		visit(e, true)
	}
	for i := range n {
		visit(i, false)
	}
	return reach, back
}

// chartDesc is the drawing's text alternative: what it shows, in one or two sentences.
func chartDesc(wf *analyzer.Workflow, reach, back []bool, collapsed bool) string {
	unreachable, loops := 0, 0
	for _, r := range reach {
		if !r {
			unreachable++
		}
	}
	for _, b := range back {
		if b {
			loops++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s leading into %d %s", len(wf.Triggers), analyzer.Plural(len(wf.Triggers), "trigger"), len(wf.Steps), analyzer.Plural(len(wf.Steps), "step"))
	if unreachable > 0 {
		fmt.Fprintf(&b, ", %d of them unreachable (greyed)", unreachable)
	}
	if loops > 0 {
		fmt.Fprintf(&b, ", with %d %s back to an earlier step", loops, analyzer.Plural(loops, "loop"))
	}
	b.WriteString(".")
	if collapsed {
		b.WriteString(" Runs of steps without branches or findings are drawn as one box.")
	}
	b.WriteString(" Each finding is a marker on its step, linking to the finding below.")
	return b.String()
}

// namedTrigger returns the index of the only trigger whose name the message quotes, or -1.
func namedTrigger(ts []analyzer.Trigger, message string) int {
	found := -1
	for i, t := range ts {
		if t.Name != "" && strings.Contains(message, strconv.Quote(t.Name)) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

func markerRows(markers int) float64 {
	if markers == 0 {
		return 0
	}
	return float64((markers+markersPerRow-1)/markersPerRow) * markerRowH
}

// chart is a drawing before layout.
type chart struct {
	id, title, desc, bandLabel string
	nodes                      []chartNode
	edges                      []chartEdge
	band                       []marker
}

// layAll lays out the charts of a report, one run of dot each. (One run for all, each chart a
// connected component, costs about a third less, but dot gives every component the same rank
// heights, so one chart's tall box spaces out every other chart.)
func layAll(ctx context.Context, charts []*chart) ([]*drawing, error) {
	out := make([]*drawing, len(charts))
	for c, ch := range charts {
		d, err := lay(ctx, ch)
		if err != nil {
			return nil, fmt.Errorf("lay out %s: %w", ch.id, err)
		}
		out[c] = d
	}
	return out, nil
}

// lay lays out one chart with dot and turns the placement into a drawing.
func lay(ctx context.Context, ch *chart) (*drawing, error) {
	var b strings.Builder
	b.WriteString("digraph{graph[rankdir=TB,nodesep=0.3,ranksep=0.42,margin=0];")
	// A label that is not empty spares go-graphviz setting one on every node after parsing.
	b.WriteString("node[shape=box,fixedsize=true,label=\" \"];edge[fontname=Helvetica,fontsize=10,arrowsize=0.7];\n")
	var triggers []string
	for i, nd := range ch.nodes {
		fmt.Fprintf(&b, "n%d[width=%.3f,height=%.3f];\n", i, boxWidth/pointsPerInch, nd.height/pointsPerInch)
		if nd.trigger {
			triggers = append(triggers, "n"+strconv.Itoa(i))
		}
	}
	if len(triggers) > 0 {
		fmt.Fprintf(&b, "{rank=min;%s}\n", strings.Join(triggers, ";"))
	}
	for _, e := range ch.edges {
		fmt.Fprintf(&b, "n%d->n%d", e.from, e.to)
		if e.label != "" {
			fmt.Fprintf(&b, "[label=%s]", dotString(cut(e.label, labelRunes)))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	l, err := runDot(ctx, []byte(b.String()))
	if err != nil {
		return nil, err
	}
	nodes := make([]placedNode, len(ch.nodes))
	for i := range ch.nodes {
		p, ok := l.nodes["n"+strconv.Itoa(i)]
		if !ok {
			return nil, fmt.Errorf("layout lost node %d", i)
		}
		nodes[i] = p
	}
	// Dot prints edges grouped by tail, not in input order; edges between the same two nodes keep
	// their input order, so each placed edge takes the first unused chart edge of its pair.
	type pair struct{ tail, head string }
	byPair := map[pair][]chartEdge{}
	for _, e := range ch.edges {
		k := pair{"n" + strconv.Itoa(e.from), "n" + strconv.Itoa(e.to)}
		byPair[k] = append(byPair[k], e)
	}
	var placed []placedEdge
	var chartEdges []chartEdge
	var heads []placedNode
	for _, e := range l.edges {
		k := pair{e.tail, e.head}
		queue := byPair[k]
		if len(e.points) < 2 || len(queue) == 0 {
			continue
		}
		byPair[k] = queue[1:]
		placed = append(placed, e)
		chartEdges = append(chartEdges, queue[0])
		heads = append(heads, l.nodes[e.head])
	}
	return draw(ch, nodes, placed, heads, chartEdges), nil
}

// draw turns one chart's placement into a drawing whose top left is its own origin.
func draw(ch *chart, nodes []placedNode, edges []placedEdge, heads []placedNode, chartEdges []chartEdge) *drawing {
	// The chart's bounding box: its boxes, its edges' control points and its edge labels, whose
	// width is estimated from their length as dot estimated it.
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	grow := func(x0, y0, x1, y1 float64) {
		minX, minY, maxX, maxY = min(minX, x0), min(minY, y0), max(maxX, x1), max(maxY, y1)
	}
	for _, p := range nodes {
		grow(p.x-p.w/2, p.y-p.h/2, p.x+p.w/2, p.y+p.h/2)
	}
	for k, e := range edges {
		for _, pt := range e.points {
			grow(pt.x, pt.y, pt.x, pt.y)
		}
		if e.labelAt != nil && chartEdges[k].label != "" {
			half := float64(utf8.RuneCountInString(cut(chartEdges[k].label, labelRunes))) * 3.2
			grow(e.labelAt.x-half, e.labelAt.y-8, e.labelAt.x+half, e.labelAt.y+8)
		}
	}
	if len(nodes) == 0 {
		minX, minY, maxX, maxY = 0, 0, 0, 0
	}
	top := padding
	if len(ch.band) > 0 {
		top += bandHeight
	}
	dx, dy := padding-minX, top-minY
	width := maxX - minX + 2*padding
	if len(ch.band) > 0 {
		width = max(width, 150+float64(len(ch.band))*(markerSize+markerGap)+2*padding)
	}
	height := maxY - minY + top + padding
	d := &drawing{ID: ch.id, Title: ch.title, Desc: ch.desc, BandLabel: ch.bandLabel}
	for i, nd := range ch.nodes {
		p := nodes[i]
		x, y := p.x-p.w/2+dx, p.y-p.h/2+dy
		dn := drawnNode{
			Class: nd.class, X: f1(x), Y: f1(y), W: f1(p.w), H: f1(p.h),
			TextX: f1(x + 10), NameY: f1(y + 19), KindY: f1(y + 36),
			Name: cut(nd.name, nameRunes), Kind: cut(nd.kind, kindRunes), Tooltip: nd.tooltip, Href: nd.href,
		}
		if nd.trigger {
			dn.NameY, dn.KindY = f1(y+17), f1(y+32)
		}
		// Marker rows sit below the text, at the bottom of the box that was made taller for them.
		rowsTop := y + p.h - markerRows(len(nd.markers)) + markerGap/2
		for k, m := range nd.markers {
			mx := x + 10 + float64(k%markersPerRow)*(markerSize+markerGap)
			my := rowsTop + float64(k/markersPerRow)*markerRowH
			dn.Markers = append(dn.Markers, placeMarker(m, mx, my))
		}
		d.Nodes = append(d.Nodes, dn)
	}
	for k, e := range edges {
		ce := chartEdges[k]
		de := drawnEdge{Class: ce.class, Path: splinePath(e.points, dx, dy), Arrow: arrowHead(e.points, heads[k], dx, dy)}
		if e.labelAt != nil && ce.label != "" {
			de.Label = cut(ce.label, labelRunes)
			de.LabelX, de.LabelY = f1(e.labelAt.x+dx), f1(e.labelAt.y+dy+3)
		}
		d.Edges = append(d.Edges, de)
	}
	if len(ch.band) > 0 {
		d.BandY = f1(padding + 15)
		for k, m := range ch.band {
			d.Band = append(d.Band, placeMarker(m, padding+140+float64(k)*(markerSize+markerGap), padding+2))
		}
	}
	d.Width, d.Height = f1(width), f1(height)
	d.ViewBox = "0 0 " + f1(width) + " " + f1(height)
	return d
}

// placeMarker draws marker m with its top left at (x, y): an octagon for an error, a triangle for a
// warning, a circle for information, each with a letter, so that severity does not rest on colour.
func placeMarker(m marker, x, y float64) drawnMarker {
	s := markerSize
	cx, cy := x+s/2, y+s/2
	dm := drawnMarker{
		ID: markerID(m.n), Href: "#" + findingID(m.n), Class: "marker " + m.severity, Label: m.label,
		TextX: f1(cx), TextY: f1(cy + 4),
	}
	switch m.severity {
	case analyzer.SeverityError:
		var p strings.Builder
		r := s / 2
		for k := range 8 {
			a := math.Pi/8 + float64(k)*math.Pi/4
			if k == 0 {
				p.WriteString("M")
			} else {
				p.WriteString("L")
			}
			p.WriteString(f1(cx+r*math.Cos(a)) + " " + f1(cy+r*math.Sin(a)))
		}
		p.WriteString("Z")
		dm.Shape, dm.Letter = p.String(), "!"
	case analyzer.SeverityWarning:
		dm.Shape = fmt.Sprintf("M%s %sL%s %sL%s %sZ", f1(cx), f1(y), f1(x+s), f1(y+s), f1(x), f1(y+s))
		dm.Letter, dm.TextY = "!", f1(cy+6)
	default:
		r := s / 2
		dm.Shape = fmt.Sprintf("M%s %sa%s %s 0 1 0 %s 0a%s %s 0 1 0 -%s 0Z", f1(cx-r), f1(cy), f1(r), f1(r), f1(2*r), f1(r), f1(r), f1(2*r))
		dm.Letter = "i"
	}
	return dm
}

// splinePath turns dot's B-spline control points (1 + 3k of them) into an SVG path.
func splinePath(pts []point, dx, dy float64) string {
	var b strings.Builder
	b.WriteString("M" + f1(pts[0].x+dx) + " " + f1(pts[0].y+dy))
	i := 1
	for ; i+2 < len(pts); i += 3 {
		b.WriteString("C" + f1(pts[i].x+dx) + " " + f1(pts[i].y+dy) + " " + f1(pts[i+1].x+dx) + " " + f1(pts[i+1].y+dy) + " " + f1(pts[i+2].x+dx) + " " + f1(pts[i+2].y+dy))
	}
	for ; i < len(pts); i++ {
		b.WriteString("L" + f1(pts[i].x+dx) + " " + f1(pts[i].y+dy))
	}
	return b.String()
}

// arrowHead draws the arrow from the spline's end to the head box's border: dot's spline stops
// short of the box by the arrow's length.
func arrowHead(pts []point, head placedNode, dx, dy float64) string {
	end, prev := pts[len(pts)-1], pts[len(pts)-2]
	vx, vy := end.x-prev.x, end.y-prev.y
	length := math.Hypot(vx, vy)
	if length == 0 {
		return ""
	}
	ux, uy := vx/length, vy/length
	const size = 7.0
	tip := point{end.x + ux*size, end.y + uy*size}
	// Dot ends the spline an arrow's length before the border; keep the tip on the border when
	// the box is nearer.
	if head.w > 0 && insideBox(tip, head) && !insideBox(end, head) {
		for k := 0; k < 8 && insideBox(tip, head); k++ {
			tip = point{(tip.x + end.x) / 2, (tip.y + end.y) / 2}
		}
	}
	px, py := -uy*size/2, ux*size/2
	return fmt.Sprintf("M%s %sL%s %sL%s %sZ",
		f1(tip.x+dx), f1(tip.y+dy), f1(end.x+px+dx), f1(end.y+py+dy), f1(end.x-px+dx), f1(end.y-py+dy))
}

func insideBox(p point, n placedNode) bool {
	return math.Abs(p.x-n.x) < n.w/2-0.5 && math.Abs(p.y-n.y) < n.h/2-0.5
}

// edgeLabel names an edge for the chart: the branch or path name, "else", "timeout" or "go to".
func edgeLabel(e analyzer.Edge) string {
	switch {
	case e.Label != "":
		return e.Label
	case e.Kind == analyzer.EdgeElse:
		return "else"
	case e.Kind == analyzer.EdgeTimeout:
		return "timeout"
	case e.Kind == analyzer.EdgeGoto:
		return "go to"
	case e.Kind == analyzer.EdgeBranch:
		return "branch"
	}
	return ""
}

// stepName is a step's name, or its id when it has none.
func stepName(s *analyzer.Step) string {
	if strings.TrimSpace(s.Name) != "" {
		return s.Name
	}
	return "Step " + s.ID
}

// kindNames are the words a chart uses for step kinds.
var kindNames = map[string]string{
	analyzer.KindMessage: "Message", analyzer.KindNotification: "Internal notification", analyzer.KindWait: "Wait",
	analyzer.KindCondition: "If / else", analyzer.KindSplit: "Split", analyzer.KindGoto: "Go to",
	analyzer.KindEnroll: "Add to workflow", analyzer.KindUnenroll: "Remove from workflow",
	analyzer.KindTagAdd: "Add tag", analyzer.KindTagRemove: "Remove tag", analyzer.KindFieldUpdate: "Update field",
	analyzer.KindCustomValue: "Update custom value", analyzer.KindOpportunity: "Opportunity",
	analyzer.KindContact: "Contact", analyzer.KindAssignUser: "Assign user", analyzer.KindWebhook: "Webhook",
	analyzer.KindGoal: "Goal", analyzer.KindDND: "Do not disturb", analyzer.KindEventStartDate: "Event start date",
	analyzer.KindAppointment: "Appointment update",
}

// channelNames are the words a chart uses for message channels.
var channelNames = map[string]string{
	analyzer.ChannelSMS: "SMS", analyzer.ChannelEmail: "Email", analyzer.ChannelCall: "Call",
	analyzer.ChannelVoicemail: "Voicemail", analyzer.ChannelWhatsApp: "WhatsApp", analyzer.ChannelSocial: "Social DM",
	analyzer.ChannelReview: "Review request",
}

// stepKind says what a step does in a few words: "Message · SMS", "Wait", "Unknown: n8n code".
func stepKind(s *analyzer.Step) string {
	switch {
	case s.Kind == analyzer.KindMessage && s.Message != nil && s.Message.Channel != "":
		return "Message · " + cmp.Or(channelNames[s.Message.Channel], humanize(s.Message.Channel))
	case s.Kind == analyzer.KindUnknown:
		return "Unknown type: " + s.Type
	case kindNames[s.Kind] != "":
		return kindNames[s.Kind]
	}
	return humanize(cmp.Or(s.Type, s.Kind))
}

// humanize turns an identifier such as "contact_tag_added" into "contact tag added".
func humanize(s string) string {
	return strings.NewReplacer("_", " ", "-", " ").Replace(s)
}

// cut shortens s to at most n runes, ending with an ellipsis when it was longer.
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// f1 formats a coordinate with one decimal, the precision of the drawings.
func f1(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}
