package analyzer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinks(t *testing.T) {
	loc := &Location{
		Complete: true,
		Workflows: []Workflow{
			// a tags "hot", which starts b; b adds the contact to a: a loop of two.
			testWorkflow("a", StatusPublished, []Trigger{tagTrigger("eq", "start")},
				Step{ID: "a1", Name: "Tag hot", Kind: KindTagAdd, Tags: []string{"hot"}}),
			testWorkflow("b", StatusPublished, []Trigger{tagTrigger("eq", "hot")},
				Step{ID: "b1", Kind: KindEnroll, Enrollment: &Enrollment{WorkflowIDs: []string{"a"}}},
				Step{ID: "b2", Kind: KindTagAdd, Tags: []string{"done"}}),
			// c listens to "done" (b starts it, outside the loop); the draft d would start c but
			// never runs.
			testWorkflow("c", StatusPublished, []Trigger{tagTrigger("eq", "done")}),
			testWorkflow("d", StatusDraft, nil, Step{ID: "d1", Kind: KindTagAdd, Tags: []string{"done"}}),
		},
	}
	require.Equal(t, []Link{
		{From: "a", To: "b", Step: "a1", Via: "tag", Value: "hot", Describe: `adds tag "hot" (step "Tag hot")`, Cycle: true},
		{From: "b", To: "a", Step: "b1", Via: "enroll", Value: "a", Describe: `adds the contact to "Workflow a" (step b1)`, Cycle: true},
		{From: "b", To: "c", Step: "b2", Via: "tag", Value: "done", Describe: `adds tag "done" (step b2)`},
	}, Links(loc))
	require.Empty(t, Links(&Location{}))
}

func TestCoverageLine(t *testing.T) {
	require.Equal(t, "The analyzer read every step and trigger in full.", Coverage{}.Line())
	partial := Coverage{Steps: CoverageCounts{Full: 1, None: 1, ByType: []TypeCoverage{{Type: "mystery", None: 1}}}}
	require.Contains(t, partial.Line(), "mystery (type not known)")
}
