package edge

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestMakefile_testsThatSkipUnderRaceRunWithout: make test runs every package under -race,
// where the tests that count allocations or heap return or skip before they check
// (raceEnabled), and then runs the tests ALLOCTESTS names once more without it, in this
// package and cachestore. A test that stops under -race and that ALLOCTESTS does not name
// never checks anything in CI (TestNode_hitsOnManyObjectsAllocateNoTemplates did not, when
// it came).
func TestMakefile_testsThatSkipUnderRaceRunWithout(t *testing.T) {
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ALLOCTESTS \?= (.+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("no ALLOCTESTS line in the Makefile")
	}
	allocTests, err := regexp.Compile(string(m[1]))
	if err != nil {
		t.Fatalf("ALLOCTESTS: %v", err)
	}
	testFunc := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	// An if on raceEnabled whose block (no braces inside) returns or skips.
	stopsUnderRace := regexp.MustCompile(`if [^{\n]*raceEnabled[^{\n]*\{[^{}]*(return|t\.Skip)`)
	for _, dir := range []string{".", "../cachestore"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := string(src)
			funcs := testFunc.FindAllStringSubmatchIndex(text, -1)
			for i, fn := range funcs {
				end := len(text)
				if i+1 < len(funcs) {
					end = funcs[i+1][0]
				}
				name := text[fn[2]:fn[3]]
				if stopsUnderRace.MatchString(text[fn[0]:end]) && !allocTests.MatchString(name) {
					t.Errorf("%s: %s stops under -race but ALLOCTESTS does not name it: make test never runs its check", f, name)
				}
			}
		}
	}
}
