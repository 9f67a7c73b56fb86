package storetest

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoTestsOutsideExercise guards the suite's shape: its cases are
// functions Exercise calls, so a TestX function in a non-test file of this
// package would silently never run.
func TestNoTestsOutsideExercise(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for name, obj := range file.Scope.Objects {
			if obj.Kind.String() == "func" && strings.HasPrefix(name, "Test") {
				t.Errorf("%s: %s is not a test here; make it a case of Exercise", f, name)
			}
		}
	}
}
