package analyzer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScoreAnchors pins the calibration points README's Scores section promises.
func TestScoreAnchors(t *testing.T) {
	for _, tt := range []struct {
		name      string
		counts    Counts
		workflows int
		grades    []string
		score     int // 0: not pinned
	}{
		{name: "no findings is A 100", workflows: 20, grades: []string{"A"}, score: 100},
		{name: "no findings in one workflow is A 100", workflows: 1, grades: []string{"A"}, score: 100},
		{name: "one warning in 20 workflows is still A", counts: Counts{Warning: 1}, workflows: 20, grades: []string{"A"}},
		{name: "one error in 20 workflows is no better than C", counts: Counts{Error: 1}, workflows: 20, grades: []string{"C", "D", "F"}},
		{name: "one error in 1,000 workflows is no better than C", counts: Counts{Error: 1}, workflows: 1000, grades: []string{"C", "D", "F"}},
		{name: "an error in every workflow is D or F", counts: Counts{Error: 20}, workflows: 20, grades: []string{"D", "F"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := healthScore(tt.counts, tt.workflows)
			require.Contains(t, tt.grades, Grade(got), "score %d", got)
			if tt.score != 0 {
				require.Equal(t, tt.score, got)
			}
		})
	}
}

// TestScoreNeverRisesWithAnError adds one error at a time to every mix of findings and location size
// on a grid and requires the score never to rise.
func TestScoreNeverRisesWithAnError(t *testing.T) {
	for _, workflows := range []int{1, 2, 5, 20, 76, 1000} {
		for warnings := 0; warnings <= 60; warnings += 6 {
			for infos := 0; infos <= 60; infos += 12 {
				prev := healthScore(Counts{Warning: warnings, Info: infos}, workflows)
				for errors := 1; errors <= 120; errors++ {
					got := healthScore(Counts{Error: errors, Warning: warnings, Info: infos}, workflows)
					require.LessOrEqual(t, got, prev, "%d workflows, %d warnings, %d info: error %d raised the score", workflows, warnings, infos, errors)
					prev = got
				}
			}
		}
	}
}
