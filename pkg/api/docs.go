package api

import (
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"sync"

	"github.com/swaggest/swgui/v5/static"
	"github.com/vearutop/statigz"
)

// docsAssets serves Swagger UI's files, embedded pre-compressed in the binary. It is built on first
// use, not at package initialisation (as swgui's v5emb package does), because building it hashes
// every file (1.5 MB of JavaScript) and every command of the binary, analyze and version included,
// would pay for it at start.
var docsAssets = sync.OnceValue(func() http.Handler { return statigz.FileServer(static.FS) })

// docsPage is Swagger UI's page. It loads the assets from the docs' own path, never from a CDN,
// hides Swagger UI's top bar (which would let a visitor load any other document), and turns the
// online validator off, so the page makes no request to another origin.
const docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}}</title>
<link rel="stylesheet" type="text/css" href="{{base}}swagger-ui.css">
<link rel="icon" type="image/png" href="{{base}}favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="{{base}}favicon-16x16.png" sizes="16x16">
<style>
html { box-sizing: border-box; overflow-y: scroll; }
*, *:before, *:after { box-sizing: inherit; }
body { margin: 0; background: #fafafa; }
</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{{base}}swagger-ui-bundle.js"></script>
<script src="{{base}}swagger-ui-standalone-preset.js"></script>
<script>
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: {{specURL}},
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [
      SwaggerUIBundle.plugins.DownloadUrl,
      function () { return { components: { Topbar: function () { return null; } } }; }
    ],
    layout: "StandaloneLayout",
    validatorUrl: null,
    defaultModelsExpandDepth: -1,
    showExtensions: true,
    showCommonExtensions: true
  });
};
</script>
</body>
</html>
`

// docsHandler serves Swagger UI under base: the page at base itself, the assets below it.
type docsHandler struct {
	base   string
	page   []byte
	assets http.Handler
}

// newDocs returns the Swagger UI handler for the document at specURL, mounted at base (which ends
// in a slash), with title as the page's title.
func newDocs(title, specURL, base string) http.Handler {
	// A string always marshals; json.Marshal escapes <, > and &, so the URL, a JavaScript string
	// literal here, cannot end the script element.
	quotedURL, _ := json.Marshal(specURL)
	page := strings.NewReplacer(
		"{{title}}", html.EscapeString(title),
		"{{base}}", html.EscapeString(base),
		"{{specURL}}", string(quotedURL),
	).Replace(docsPage)
	return &docsHandler{base: base, page: []byte(page), assets: http.StripPrefix(base, docsAssets())}
}

func (d *docsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.TrimSuffix(r.URL.Path, "/") == strings.TrimSuffix(d.base, "/") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(d.page)
		return
	}
	d.assets.ServeHTTP(w, r)
}
