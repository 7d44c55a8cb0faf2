// requiredErrorResponses reports each error response an operation can return but does not document.
// The service's middleware decides most errors before any handler runs, so they follow from the
// operation's shape alone (the same rules pkg/api/spec_test.go checks in Go):
//   - 500 always: any operation can fail;
//   - 401 and 429 when the operation needs an API key: the key is checked, then the account's rate
//     limit;
//   - 400 when it takes parameters or a body: the request validator refuses bad ones;
//   - 404 when its path has a parameter: the resource may not exist or belong to another account;
//   - 413 and 415 when it takes a body: the body limit and the JSON-only content check.
// It is given a path item, so path-level parameters count too.

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export default function requiredErrorResponses(pathItem, _options, context) {
  if (pathItem === null || typeof pathItem !== "object") {
    return [];
  }
  const path = String(context.path[context.path.length - 1]);
  const root = context.document.data ?? {};
  const results = [];
  for (const method of methods) {
    const op = pathItem[method];
    if (op === null || typeof op !== "object") {
      continue;
    }
    const security = op.security ?? root.security ?? [];
    const secured = security.length > 0;
    const hasParams = (pathItem.parameters ?? []).length + (op.parameters ?? []).length > 0;
    const hasBody = op.requestBody !== undefined;

    const need = [["500", "every operation can fail"]];
    if (secured) {
      need.push(["401", "it needs an API key"], ["429", "it is rate limited per account"]);
    }
    if (hasParams || hasBody) {
      need.push(["400", "its input is validated"]);
    }
    if (path.includes("{")) {
      need.push(["404", "its path names a resource"]);
    }
    if (hasBody) {
      need.push(["413", "its body is size-limited"], ["415", "its body must be JSON"]);
    }
    const documented = op.responses ?? {};
    for (const [code, why] of need) {
      if (!(code in documented)) {
        results.push({
          message: `${op.operationId ?? method.toUpperCase() + " " + path} must document the ${code} response (${why}).`,
          path: [...context.path, method, "responses"],
        });
      }
    }
  }
  return results;
}
