// Package apidoc holds Steward's API contract as the server serves it: the
// OpenAPI 3.1 document (generated from openapi.yaml by ./gen) and the
// bundled Redoc viewer for the reference page, all embedded in the binary
// so the page needs no network.
package apidoc

import _ "embed"

//go:generate go run ./gen

// OpenAPI is the OpenAPI 3.1 document, as JSON.
//
//go:embed openapi.json
var OpenAPI []byte

// DocsPage is the HTML of the API reference page; it loads RedocScript
// from /api/docs/redoc.standalone.js and the document from /api/openapi.json.
//
//go:embed docs.html
var DocsPage []byte

// RedocScript is Redoc's standalone bundle (version and licence in
// redoc/VERSION and redoc/LICENSE).
//
//go:embed redoc/redoc.standalone.js
var RedocScript []byte
