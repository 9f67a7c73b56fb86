// Command gen writes Steward's API contract files from their source,
// openapi.yaml: openapi.json (the document the server embeds and serves)
// and steward.postman_collection.json (Steward's Postman collection). Run
// it with `go generate ./httpapi/apidoc`; its test fails when the committed
// files differ from what it would write.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// Files the generator reads and writes, relative to httpapi/apidoc.
const (
	sourceFile   = "openapi.yaml"
	documentFile = "openapi.json"
	postmanFile  = "steward.postman_collection.json"
)

func main() {
	dir := flag.String("dir", ".", "the httpapi/apidoc directory")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	src, err := os.ReadFile(filepath.Join(dir, sourceFile))
	if err != nil {
		return err
	}
	files, err := generate(src)
	if err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generate returns each output file's contents, by name.
func generate(src []byte) (map[string][]byte, error) {
	v, err := fromYAML(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sourceFile, err)
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("%s: the document must be a mapping", sourceFile)
	}
	docJSON, err := marshalIndent(doc)
	if err != nil {
		return nil, err
	}
	coll, err := postmanCollection(doc)
	if err != nil {
		return nil, err
	}
	collJSON, err := marshalIndent(coll)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{documentFile: docJSON, postmanFile: collJSON}, nil
}
