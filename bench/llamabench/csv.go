package llamabench

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// parseCSV parses llama-bench -o csv: a header of field names, then one
// row per test with every value double-quoted (bools as 0/1).
func parseCSV(data []byte, name string, first int) ([]Record, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, &ParseError{Name: name, Line: first, Format: FormatCSV, Msg: "cannot read the header row", Err: err}
	}
	seen := map[string]bool{}
	for _, h := range header {
		if h == "" || seen[h] {
			return nil, &ParseError{Name: name, Line: first, Format: FormatCSV, Msg: fmt.Sprintf("header has an empty or repeated column %q", h)}
		}
		seen[h] = true
	}
	for _, req := range required {
		if !seen[req] {
			return nil, &ParseError{Name: name, Line: first, Format: FormatCSV, Msg: fmt.Sprintf("header lacks column %q: not llama-bench csv", req)}
		}
	}
	var recs []Record
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
				msg := "garbled row"
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					msg = fmt.Sprintf("row has a different number of columns than the header's %d (truncated or garbled)", len(header))
					return nil, &ParseError{Name: name, Line: first + line - 1, Format: FormatCSV, Msg: msg, Err: ErrTruncated}
				}
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					msg = "unterminated or stray quote (truncated or garbled row)"
				}
				return nil, &ParseError{Name: name, Line: first + line - 1, Format: FormatCSV, Msg: msg, Err: pe.Err}
			}
			return nil, &ParseError{Name: name, Line: first + line - 1, Format: FormatCSV, Msg: "cannot read row", Err: err}
		}
		line, _ := cr.FieldPos(0) // safe: a row without error has at least one field
		r := Record{Fields: make(map[string]any, len(header)), Order: append([]string(nil), header...)}
		for i, h := range header {
			r.Fields[h] = row[i]
		}
		if err := r.finish(FormatCSV, name, first+line-1); err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	// A row cut at a line boundary parses as a short row (caught above); one
	// cut inside the last field still has the right count only if the cut was
	// after the last quote: llama-bench ends every row with a newline.
	if len(data) > 0 && !strings.HasSuffix(strings.TrimRight(string(data), " \t"), "\n") && len(recs) > 0 {
		return nil, &ParseError{Name: name, Line: first + bytes.Count(data, []byte("\n")), Format: FormatCSV, Msg: "last row has no line end (truncated output)", Err: ErrTruncated}
	}
	return recs, nil
}
