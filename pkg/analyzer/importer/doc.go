// Package importer reads every input dialect ghl-debugger accepts into the analyzer's normalized model
// (package analyzer): GHL builder exports, the open-source ghl-workflow-auditor's bundles and the
// normalized model itself. It does no I/O; callers hand it bytes and get a *Result or an error.
//
// # Detection
//
// Parse looks at the top-level shape only. The first rule that matches decides:
//
//  1. A JSON array: every element must be a builder export (single envelope, bulk envelope or bare
//     workflow document). Their workflows are merged into one location.
//  2. An object with "$schema": a builder envelope. The schema must start with "ghl-workflow-export/".
//  3. An object with "workflowData": a bare builder workflow document, with "triggers" beside it.
//  4. An object with a "workflow" object, or whose first "workflows" element holds "workflow" or
//     "workflowData": a builder envelope without "$schema".
//  5. An object with "workflows" whose first deciding workflow carries "edges", or whose first step
//     carries "kind": a normalized Location.
//  6. Any other object with "workflows": the auditor's bundle, with the location context at top level.
//  7. An object with "steps": one normalized Workflow when it carries "edges" or its first step
//     carries "kind"; otherwise one auditor workflow.
//  8. Anything else is an *Error naming the dialects expected.
//
// # Builder exports
//
// Steps are workflowData.templates[]. next is the runtime edge (a string, an array, or absent);
// parentKey is only a consistency check, used to prefer a true entry as the root, and may carry a
// "-<branch name>" suffix (matched by prefix). GHL's three-node if/else (condition node, branch-yes
// and branch-no nodes) becomes one condition step with a branch edge per branch and an else edge
// for the None branch when next lists one; transition markers become labelled transition edges of
// their multi-path step, and a wait with two exits gets a next edge (its primary exit) and a timeout
// edge, startAfter being the timeout. A branch node or marker pointed at from more than one step is
// malformed and is kept as a step rather than copied into every referrer. Aliases accepted: goto
// targetNodeId / targetId, workflow_id / workflowId (scalar or array), tags scalar or array, fields[]
// or fieldKey/fieldValue, if/else branches[].segments[].conditions[] or flat conditions[],
// opportunity values in __customInputFields__, trigger types and their spellings (contact_tag_added,
// form_submission...), and the filter fields and operators listed in conventions.
//
// # Auditor bundles
//
// Steps without next run in list order within their lane: the list's own steps form the main lane;
// steps whose parentKey names an if/else branch (a branch id, or "<if/else id>-<branch name>") form
// that branch's lane; an explicit null or empty next ends the path. An if/else with inline branch
// actions leads into them and they rejoin the steps after it; a branch declared with no actions is
// empty. Step ids are step-N by position when absent (inline actions <if/else id>.<branch>.<n>, "e"
// for the None branch). Waits read delay ("2 days" or {value, unit}), value/unit, waitType and
// offset; a wait that states none of them has mode unknown rather than a guessed duration.
//
// # Normalized model
//
// A Location or a single Workflow is validated: non-empty unique ids, known step and edge kinds,
// edges leaving existing steps and a root naming a step (computed when absent). What the importer
// produces reads back unchanged.
//
// # Guarantees
//
// No input panics or hangs: nesting is bounded on the raw bytes before decoding (Options.MaxDepth),
// counts are bounded (MaxWorkflows, MaxStepsPerWorkflow, and MaxContextObjects over every list of the
// location context, stages included), every pass over steps, edges and context lists is linear,
// and go-to or next cycles are only recorded as edges, never walked without a visited set. The model
// is deterministic: slices built from JSON objects are sorted by key, and every raw document is
// compacted with HTML-sensitive characters escaped (the form encoding/json writes), so identical
// content gives identical bytes.
package importer
