package llamabench

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func fuzzSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		for _, p := range m {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// checkParse is the property every parser keeps on any input: no panic,
// either an error and no records, or records with real numbers.
func checkParse(t *testing.T, data []byte, format Format) {
	recs, err := ParseBytes(data, format, "fuzz")
	if err != nil {
		if recs != nil {
			t.Fatalf("records returned with error %v", err)
		}
		return
	}
	if len(recs) == 0 {
		t.Fatal("no error and no records")
	}
	for _, r := range recs {
		if math.IsNaN(r.AvgTS) || math.IsInf(r.AvgTS, 0) || r.AvgTS < 0 || r.NPrompt+r.NGen <= 0 {
			t.Fatalf("bad record accepted: %+v", r)
		}
		_ = r.Label()
	}
	// The log extractor must not panic either.
	_, _ = ParseLog(data, "fuzz")
}

func FuzzParseJSON(f *testing.F) {
	fuzzSeeds(f, "testdata/*.json", "testdata/*.jsonl", "testdata/mid2025/*.json*")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data, FormatJSON)
		checkParse(t, data, FormatJSONL)
	})
}

func FuzzParseMD(f *testing.F) {
	fuzzSeeds(f, "testdata/*.md", "testdata/mid2025/*.md")
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, FormatMD) })
}

func FuzzParseCSV(f *testing.F) {
	fuzzSeeds(f, "testdata/*.csv", "testdata/mid2025/*.csv")
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, FormatCSV) })
}

func FuzzParseSQL(f *testing.F) {
	fuzzSeeds(f, "testdata/*.sql", "testdata/mid2025/*.sql")
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, FormatSQL) })
}

func FuzzParseAuto(f *testing.F) {
	fuzzSeeds(f, "testdata/bench*", "testdata/mid2025/bench*")
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, FormatAuto) })
}
