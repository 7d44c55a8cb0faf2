// rateLimitHeaders reports a rate-limited operation whose responses do not document the rate-limit
// headers. Limits are per account (detected from the API key), so every operation that needs a key
// is limited: its success responses and its 429 carry the limit, what remains of it and when the
// window resets, and the 429 also says when to retry. Public operations (security: []) are not
// checked, because no account is known for them. Header names compare case-insensitively, as in
// HTTP.
//
// Options: { headers: [names every success and 429 response declares], retryHeaders: [names the
// 429 response declares as well] }.

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export default function rateLimitHeaders(pathItem, options, context) {
  if (pathItem === null || typeof pathItem !== "object") {
    return [];
  }
  const headers = options?.headers ?? [];
  const retryHeaders = options?.retryHeaders ?? [];
  const path = String(context.path[context.path.length - 1]);
  const root = context.document.data ?? {};
  const results = [];
  for (const method of methods) {
    const op = pathItem[method];
    if (op === null || typeof op !== "object") {
      continue;
    }
    const security = op.security ?? root.security ?? [];
    if (security.length === 0) {
      continue;
    }
    const name = op.operationId ?? `${method.toUpperCase()} ${path}`;
    for (const [code, response] of Object.entries(op.responses ?? {})) {
      const success = /^2/.test(code);
      if (!success && code !== "429") {
        continue;
      }
      const want = code === "429" ? [...headers, ...retryHeaders] : headers;
      const have = new Set(Object.keys(response?.headers ?? {}).map((h) => h.toLowerCase()));
      const missing = want.filter((h) => !have.has(h.toLowerCase()));
      if (missing.length > 0) {
        results.push({
          message: `The ${code} response of ${name} must declare the rate-limit header${missing.length > 1 ? "s" : ""} ${missing.join(", ")}.`,
          path: [...context.path, method, "responses", code],
        });
      }
    }
  }
  return results;
}
