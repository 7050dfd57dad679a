package llamabench

import (
	"fmt"
	"math"
	"strings"
)

// ParseOutputs parses one llama-bench run from its stdout and stderr. With
// -oe, stderr carries a second copy of the results (usually json) after log
// lines; the richer copy is returned (json/jsonl/csv/sql over md) after
// checking that both copies agree test by test. Without -oe the stdout
// result is returned. stdoutName and stderrName name the inputs in errors.
func ParseOutputs(stdoutName string, stdout []byte, stderrName string, stderr []byte) ([]Record, error) {
	var outRecs, errRecs []Record
	var outErr error
	if strings.TrimSpace(string(stdout)) != "" {
		outRecs, outErr = ParseBytes(stdout, FormatAuto, stdoutName)
	}
	if _, _, _, err := Extract(stderr); err == nil {
		var perr error
		errRecs, perr = ParseLog(stderr, stderrName)
		if perr != nil {
			return nil, perr
		}
	}
	switch {
	case outErr != nil:
		return nil, outErr
	case outRecs == nil && errRecs == nil:
		return nil, &ParseError{Name: stdoutName, Msg: "no llama-bench results on stdout or stderr", Err: ErrNoOutput}
	case errRecs == nil:
		return outRecs, nil
	case outRecs == nil:
		return errRecs, nil
	}
	if len(outRecs) != len(errRecs) {
		return nil, fmt.Errorf("%s has %d results but %s has %d: one copy is truncated; rerun the case", stdoutName, len(outRecs), stderrName, len(errRecs))
	}
	for i := range outRecs {
		a, b := outRecs[i], errRecs[i]
		if a.Label() != b.Label() || !sameTS(a, b) {
			return nil, fmt.Errorf("%s and %s disagree on result %d (%s %.2f t/s vs %s %.2f t/s): the outputs are not from the same run",
				stdoutName, stderrName, i+1, a.Label(), a.AvgTS, b.Label(), b.AvgTS)
		}
	}
	if outRecs[0].Format == FormatMD && errRecs[0].Format != FormatMD {
		return errRecs, nil
	}
	return outRecs, nil
}

// sameTS compares t/s allowing for markdown's two-decimal rounding.
func sameTS(a, b Record) bool {
	tol := 1e-9
	if a.Format == FormatMD || b.Format == FormatMD {
		tol = 0.005 + 1e-9
	}
	return math.Abs(a.AvgTS-b.AvgTS) <= tol && math.Abs(a.StddevTS-b.StddevTS) <= tol
}
