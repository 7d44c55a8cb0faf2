package analyzer

// substringIndex finds which of a fixed set of patterns occur inside a text, in time linear in the
// text plus the matches found (the Aho-Corasick automaton). WD040 uses it to find, for every value a
// contains test looks for, the longer values of the location that contain it: testing each value
// against each of a location's (possibly hundreds of thousands of) tags would cost their product.
type substringIndex struct {
	// next maps a node and a byte (node<<8 | byte) to the node the trie reaches; node 0 is the root.
	next map[uint64]int32
	// fail is each node's longest proper suffix that is also a trie node.
	fail []int32
	// pattern is the index of the pattern ending at each node, -1 for none.
	pattern []int32
	// output is the nearest node on the fail chain that ends a pattern, -1 for none.
	output []int32
	// seen is, per pattern, the last text it was reported for, so each is reported once per text.
	seen []int
	text int
}

// newSubstringIndex builds the automaton of patterns; empty patterns never match.
func newSubstringIndex(patterns []string) *substringIndex {
	x := &substringIndex{next: map[uint64]int32{}, fail: []int32{0}, pattern: []int32{-1}, output: []int32{-1}, seen: make([]int, len(patterns))}
	for i, p := range patterns {
		if p == "" {
			continue
		}
		node := int32(0)
		for k := 0; k < len(p); k++ {
			key := uint64(node)<<8 | uint64(p[k])
			child, ok := x.next[key]
			if !ok {
				child = int32(len(x.fail))
				x.next[key] = child
				x.fail = append(x.fail, 0)
				x.pattern = append(x.pattern, -1)
				x.output = append(x.output, -1)
			}
			node = child
		}
		if x.pattern[node] < 0 {
			x.pattern[node] = int32(i)
		}
	}
	// Breadth-first over the trie, so every node's fail target is final before its children's.
	type edge struct {
		b    byte
		node int32
	}
	children := make([][]edge, len(x.fail))
	for key, child := range x.next {
		parent := key >> 8
		children[parent] = append(children[parent], edge{byte(key), child})
	}
	queue := []int32{0}
	for head := 0; head < len(queue); head++ {
		u := queue[head]
		for _, c := range children[u] {
			f := int32(0)
			if u != 0 {
				f = x.step(x.fail[u], c.b)
			}
			x.fail[c.node] = f
			if x.pattern[f] >= 0 {
				x.output[c.node] = f
			} else {
				x.output[c.node] = x.output[f]
			}
			queue = append(queue, c.node)
		}
	}
	for i := range x.seen {
		x.seen[i] = -1
	}
	return x
}

// step follows byte b from node u, falling back along fail links; the root absorbs what matches
// nothing.
func (x *substringIndex) step(u int32, b byte) int32 {
	for {
		if v, ok := x.next[uint64(u)<<8|uint64(b)]; ok {
			return v
		}
		if u == 0 {
			return 0
		}
		u = x.fail[u]
	}
}

// each calls fn once with the index of every pattern that occurs in text.
func (x *substringIndex) each(text string, fn func(pattern int)) {
	x.text++
	report := func(node int32) {
		for ; node > 0; node = x.output[node] {
			if p := x.pattern[node]; p >= 0 && x.seen[p] != x.text {
				x.seen[p] = x.text
				fn(int(p))
			}
		}
	}
	node := int32(0)
	for k := 0; k < len(text); k++ {
		node = x.step(node, text[k])
		report(node)
	}
}
