package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// specGate is the middleware that applies openapi.yaml to every request before its handler: it
// finds the operation, authenticates the caller when the operation requires bearerAuth and counts
// the request against the account's rate limit, checks the body's media type and size, and
// validates parameters and body against the spec. Requests for
// paths that are not in the spec (the docs, Echo's 404) pass through untouched.
type specGate struct {
	server *Server
	// outsideSpec are the Echo routes of the service that are not operations of the API (the docs,
	// the spec files, the metrics); every other request must match an operation of the spec.
	outsideSpec  map[string]bool
	router       routers.Router
	options      *openapi3filter.Options
	maxBodyBytes int64
}

func newSpecGate(s *Server, maxBodyBytes int64, outsideSpec ...string) (*specGate, error) {
	spec, err := gen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	// The spec's servers name where the docs point; requests are matched on path alone, whatever
	// host and port the service runs on.
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, fmt.Errorf("build spec router: %w", err)
	}
	outside := make(map[string]bool, len(outsideSpec))
	for _, p := range outsideSpec {
		outside[p] = true
	}
	return &specGate{
		server: s,
		router: router,
		options: &openapi3filter.Options{
			MultiError: true,
			// The generated handlers bind the value the validator checked, so a body cannot
			// slip a second, case-variant key past the schema (encoding/json matches keys
			// case-insensitively).
			KeepValidatedValue: true,
			// Authentication already happened, driven by the same security requirements.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// Keep the caller's values and the schema out of error messages: the values may be
			// secrets and the schema is noise. Messages are rebuilt per field below.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		},
		maxBodyBytes: maxBodyBytes,
		outsideSpec:  outside,
	}, nil
}

func (g *specGate) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		req := c.Request()
		route, params, err := g.router.FindRoute(req)
		if err != nil {
			if g.outsideSpec[c.Path()] {
				// The docs, the spec files and the metrics: routes of the service that are not
				// operations of the API.
				c.SetRequest(req.WithContext(context.WithValue(req.Context(), operationKey{}, c.Path())))
				return next(c)
			}
			// Echo's router is more lenient than the spec (a trailing slash, an extra segment
			// or a dot segment can still land on a route of Echo's), so it never decides alone
			// whether an operation is served: what the spec does not match is a 404, or a 405
			// when the path is right and the method is not.
			return g.unmatched(c, err)
		}
		if !g.agrees(c, route, params) {
			return notFound()
		}
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), operationKey{}, route.Operation.OperationID)))
		req = c.Request()
		validated := func(c *echo.Context) error { return g.validate(c, route, params, next) }
		if requiresBearer(route) {
			p, err := g.server.authenticate(req.Context(), req.Header.Get(echo.HeaderAuthorization))
			if err != nil {
				return err
			}
			c.SetRequest(req.WithContext(withPrincipal(req.Context(), p)))
			// The rate limit counts per account, so it needs the authenticated one, and it counts
			// every request the account makes, invalid ones too: it runs between authentication
			// and validation.
			return g.server.limitRequests(validated)(c)
		}
		return validated(c)
	}
}

// operationKey is the context key of the operation id of a request that matched one (or the route
// of a request for one of the service's routes outside the spec).
type operationKey struct{}

// matchedOperation reports whether the request of ctx matched an operation of the spec or one of the
// service's other routes, and so has a path that is one of the service's, safe to show back in a
// problem's instance.
func matchedOperation(ctx context.Context) bool {
	_, ok := ctx.Value(operationKey{}).(string)
	return ok
}

// agrees reports whether Echo routed the request to the handler of the operation the spec matched,
// with the same path parameters, so that what was authenticated and validated is what the handler
// serves.
func (g *specGate) agrees(c *echo.Context, route *routers.Route, params map[string]string) bool {
	if c.Path() != echoPath(route.Path) {
		return false
	}
	for name, value := range params {
		if c.Param(name) != value {
			return false
		}
	}
	return true
}

// unmatched answers a request that no operation of the spec matches: 405 with the Allow header
// when the spec has the path with other methods, 404 otherwise. Neither echoes the path.
func (g *specGate) unmatched(c *echo.Context, err error) error {
	if !errors.Is(err, routers.ErrMethodNotAllowed) {
		return notFound()
	}
	req := c.Request()
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(req.Context())
		probe.Method = m
		if _, _, err := g.router.FindRoute(probe); err == nil {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		return notFound()
	}
	c.Response().Header().Set("Allow", strings.Join(allowed, ", "))
	return newProblem(kindMethodNotAllowed, "", nil)
}

// notFound is the 404 of a path that is not the API's.
func notFound() *Problem {
	return newProblem(kindNotFound, "No operation of the API has this path; see /openapi.yaml.", nil)
}

// echoPath writes a spec path template in Echo's notation: /v1/locations/{locationId} becomes
// /v1/locations/:locationId, as the generated RegisterHandlers registers it.
func echoPath(specPath string) string {
	var b strings.Builder
	for i := 0; i < len(specPath); i++ {
		switch specPath[i] {
		case '{':
			b.WriteByte(':')
		case '}':
		default:
			b.WriteByte(specPath[i])
		}
	}
	return b.String()
}

// validate reads the request's body, within the size limit, and validates the request against
// the operation of route before handing it to next.
func (g *specGate) validate(c *echo.Context, route *routers.Route, params map[string]string, next echo.HandlerFunc) error {
	req := c.Request()
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil {
		if err := g.readBody(req, rb.Value); err != nil {
			return err
		}
	}
	if fields := nulParameterFields(req.URL.Query(), params); len(fields) > 0 {
		return invalidFieldsProblem(dedupe(fields), nil)
	}
	err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    g.options,
	})
	if err != nil {
		return validationProblem(err)
	}
	return next(c)
}

// requiresBearer reports whether the operation's security requirements (its own, or the spec's
// when it has none) include bearerAuth. An operation with `security: []` is public.
func requiresBearer(route *routers.Route) bool {
	security := route.Operation.Security
	if security == nil {
		security = &route.Spec.Security
	}
	for _, req := range *security {
		if _, ok := req["bearerAuth"]; ok {
			return true
		}
	}
	return false
}

// readBody reads the whole body, within the size limit, before validation, so that an oversize
// body is a 413 and not a truncated-JSON 400, and checks that its media type is one the operation
// accepts. A body sent with Content-Encoding: gzip is decompressed first, and the limit applies to
// what it decompresses to, so a small body that inflates beyond it (a zip bomb) is a 413 too. It
// leaves the (decompressed) body readable again for the validator and the handler.
func (g *specGate) readBody(req *http.Request, rb *openapi3.RequestBody) error {
	if req.ContentLength > g.maxBodyBytes {
		return payloadTooLarge(g.maxBodyBytes)
	}
	body, err := decodedBody(req)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(body, g.maxBodyBytes+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return payloadTooLarge(g.maxBodyBytes)
		}
		if body != req.Body {
			return notGzip(err)
		}
		return newProblem(kindBadRequest, "The request body could not be read.", fmt.Errorf("read request body: %w", err))
	}
	if int64(len(data)) > g.maxBodyBytes {
		return payloadTooLarge(g.maxBodyBytes)
	}
	_ = req.Body.Close()
	if body != req.Body {
		// The handlers see the body as it was before compression.
		req.Header.Del(echo.HeaderContentEncoding)
		req.ContentLength = int64(len(data))
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	if len(data) == 0 {
		return nil // the validator reports a missing required body, naming it
	}
	ct := req.Header.Get(echo.HeaderContentType)
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil || rb.Content.Get(mediaType) == nil {
		accepted := slices.Sorted(maps.Keys(rb.Content))
		return newProblem(kindUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q is not accepted here; send %s.", ct, strings.Join(accepted, " or ")), nil)
	}
	if mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") {
		// The validator decodes only the first JSON value and would ignore anything after it;
		// a body must be exactly one value.
		var v json.RawMessage
		if err := json.Unmarshal(data, &v); err != nil {
			return newProblem(kindMalformedJSON, malformedDetail(err), err)
		}
		if fields := nulBodyFields(data); len(fields) > 0 {
			return invalidFieldsProblem(dedupe(fields), nil)
		}
	}
	return nil
}

// decodedBody returns the request body as its Content-Encoding says to read it: as it is
// (identity, or no header) or gunzipped. Any other coding is a 415 naming the ones accepted.
func decodedBody(req *http.Request) (io.Reader, error) {
	switch coding := strings.ToLower(strings.TrimSpace(req.Header.Get(echo.HeaderContentEncoding))); coding {
	case "", "identity":
		return req.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, notGzip(err)
		}
		return zr, nil
	default:
		return nil, newProblem(kindUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %q is not accepted; send the body uncompressed or with Content-Encoding: gzip.", coding), nil)
	}
}

// notGzip is the 400 of a body that Content-Encoding says is gzip and is not.
func notGzip(cause error) *Problem {
	return newProblem(kindBadRequest, "The request body is not valid gzip, although Content-Encoding says so.", cause)
}

// validationProblem turns the validator's error into a problem: malformed JSON when the body did
// not parse, otherwise a validation problem that names every invalid field.
func validationProblem(err error) *Problem {
	var fields []gen.InvalidField
	for _, re := range requestErrors(err) {
		switch {
		case re.Parameter != nil:
			fields = append(fields, parameterFields(re)...)
		case re.RequestBody != nil:
			if pe, ok := errors.AsType[*openapi3filter.ParseError](re.Err); ok {
				return newProblem(kindMalformedJSON, malformedDetail(pe.Cause), err)
			}
			if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
				fields = append(fields, gen.InvalidField{Field: "body", Location: gen.InvalidFieldLocationBody, Reason: "is required"})
				continue
			}
			fields = append(fields, schemaFields(re.Err, gen.InvalidFieldLocationBody, nil)...)
		default:
			fields = append(fields, gen.InvalidField{Field: "body", Location: gen.InvalidFieldLocationBody, Reason: "is invalid"})
		}
	}
	if len(fields) == 0 {
		return newProblem(kindBadRequest, "", err)
	}
	return invalidFieldsProblem(dedupe(fields), err)
}

// requestErrors flattens the validator's (multi-)error into its request errors.
func requestErrors(err error) []*openapi3filter.RequestError {
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []*openapi3filter.RequestError
		for _, inner := range e {
			out = append(out, requestErrors(inner)...)
		}
		return out
	case *openapi3filter.RequestError:
		return []*openapi3filter.RequestError{e}
	default:
		if re, ok := errors.AsType[*openapi3filter.RequestError](err); ok {
			return []*openapi3filter.RequestError{re}
		}
		return nil
	}
}

// malformedDetail explains a body that is not JSON. The decoder's message names the offending
// character and what was expected, never more of the caller's input.
func malformedDetail(cause error) string {
	if cause == nil {
		return kindMalformedJSON.detail
	}
	msg := strings.TrimPrefix(cause.Error(), "json: ")
	return fmt.Sprintf("The request body is not valid JSON: %s.", msg)
}

// parameterFields explains an invalid path, query or header parameter.
func parameterFields(re *openapi3filter.RequestError) []gen.InvalidField {
	p := re.Parameter
	loc := gen.InvalidFieldLocation(p.In)
	one := func(reason string) []gen.InvalidField {
		return []gen.InvalidField{{Field: p.Name, Location: loc, Reason: reason}}
	}
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return one("is required")
	case errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue):
		return one("must not be empty")
	}
	if _, ok := errors.AsType[*openapi3filter.ParseError](re.Err); ok {
		return one("must be " + describeType(p.Schema))
	}
	if fields := schemaFields(re.Err, loc, []string{p.Name}); len(fields) > 0 {
		return fields
	}
	return one("is invalid")
}

// describeType names a parameter's type for "must be ..." messages.
func describeType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil {
		return "a valid value"
	}
	switch {
	case ref.Value.Type.Is(openapi3.TypeInteger):
		return "an integer"
	case ref.Value.Type.Is(openapi3.TypeNumber):
		return "a number"
	case ref.Value.Type.Is(openapi3.TypeBoolean):
		return "true or false"
	case ref.Value.Type.Is(openapi3.TypeArray):
		return "a list"
	default:
		return "a valid value"
	}
}

// schemaFields names each field that a schema error (or a tree of them) is about. base is the path
// of the value the schema was applied to (a parameter's name, or nothing for the body).
func schemaFields(err error, loc gen.InvalidFieldLocation, base []string) []gen.InvalidField {
	switch e := err.(type) {
	case nil:
		return nil
	case openapi3.MultiError:
		var out []gen.InvalidField
		for _, inner := range e {
			out = append(out, schemaFields(inner, loc, base)...)
		}
		return out
	case *openapi3.SchemaError:
		path := append(slices.Clone(base), e.JSONPointer()...)
		reason := e.Reason
		switch {
		case e.SchemaField == "required":
			// The pointer already ends with the missing property.
			reason = "is required"
		case strings.HasSuffix(reason, " is unsupported"):
			// additionalProperties: false; the pointer is the object, the reason names the
			// property.
			var name string
			if _, err := fmt.Sscanf(reason, "property %q is unsupported", &name); err == nil {
				path = append(path, name)
				reason = "is not a known field"
			}
		case reason == "":
			reason = fmt.Sprintf("does not satisfy %q", e.SchemaField)
		}
		return []gen.InvalidField{{Field: fieldName(path), Location: loc, Reason: reason}}
	default:
		if inner := errors.Unwrap(err); inner != nil {
			return schemaFields(inner, loc, base)
		}
		return nil
	}
}

// fieldName writes a path as a field name: "ghlLocationId", "items[0].name", or "body" for the
// body as a whole.
func fieldName(path []string) string {
	if len(path) == 0 {
		return "body"
	}
	var b strings.Builder
	for i, seg := range path {
		if _, err := strconv.Atoi(seg); err == nil && i > 0 {
			b.WriteString("[" + seg + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// dedupe drops repeated entries and orders the rest by location, field and reason, so responses
// are stable.
func dedupe(fields []gen.InvalidField) []gen.InvalidField {
	slices.SortStableFunc(fields, func(a, b gen.InvalidField) int {
		if c := strings.Compare(string(a.Location), string(b.Location)); c != 0 {
			return c
		}
		if c := strings.Compare(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return slices.Compact(fields)
}
