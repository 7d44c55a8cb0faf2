package analyzer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSubstringIndex compares the automaton with strings.Contains on random patterns and texts over
// a small alphabet, where patterns overlap, nest and repeat.
func TestSubstringIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(max int) string {
		b := make([]byte, rng.IntN(max+1))
		for i := range b {
			b[i] = "abc"[rng.IntN(3)]
		}
		return string(b)
	}
	for round := range 200 {
		patterns := make([]string, 1+rng.IntN(8))
		for i := range patterns {
			patterns[i] = word(4)
		}
		x := newSubstringIndex(patterns)
		for range 20 {
			text := word(12)
			var got []int
			x.each(text, func(i int) { got = append(got, i) })
			slices.Sort(got)
			var want []int
			for i, p := range patterns {
				// Empty patterns never match; a repeated pattern is reported at its first index.
				if p != "" && strings.Contains(text, p) && slices.Index(patterns, p) == i {
					want = append(want, i)
				}
			}
			require.Equal(t, want, got, "round %d: patterns %q in %q", round, patterns, text)
		}
	}
}
