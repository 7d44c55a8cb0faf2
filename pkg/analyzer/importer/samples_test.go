package importer_test

// samplesDir is the auditor's sample data, beside the repository (CI clones main with shared/ next to
// it). Tests fail, never skip, when it is missing.
const samplesDir = "../../../../shared/samples/ghl-workflow-auditor"
