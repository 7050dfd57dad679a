package llamabench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// lineAt is the 1-based line of byte offset off in data, data starting at
// line first.
func lineAt(data []byte, off int64, first int) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return first + bytes.Count(data[:off], []byte("\n"))
}

// jsonErr turns a decoder error into a ParseError at the right line.
func jsonErr(data []byte, dec *json.Decoder, err error, name string, first int, f Format, what string) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ParseError{Name: name, Line: lineAt(data, int64(len(data)), first), Format: f,
			Msg: "output ends inside " + what + " (the run was cut short: check the case's exit code and stderr)", Err: ErrTruncated}
	}
	return &ParseError{Name: name, Line: lineAt(data, off, first), Format: f, Msg: "garbled JSON in " + what, Err: err}
}

// decodeObject reads one JSON object from dec, keeping field order.
func decodeObject(dec *json.Decoder) (map[string]any, []string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("want an object, got %v", tok)
	}
	fields := map[string]any{}
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("want a field name, got %v", tok)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, dup := fields[key]; !dup {
			order = append(order, key)
		}
		fields[key] = v
	}
	tok, err = dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '}' {
		return nil, nil, fmt.Errorf("want end of object, got %v", tok)
	}
	return fields, order, nil
}

func (r *Record) finish(f Format, name string, line int) error {
	r.Format = f
	if msg := r.fill(); msg != "" {
		return &ParseError{Name: name, Line: line, Format: f, Msg: msg}
	}
	return nil
}

// parseJSON parses llama-bench -o json: an array of objects. With
// trailing, content after the closing bracket is ignored (log lines).
func parseJSON(data []byte, name string, first int, trailing bool) ([]Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(data, dec, err, name, first, FormatJSON, "the result array")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, &ParseError{Name: name, Line: first, Format: FormatJSON, Msg: "want a JSON array of results ('[')"}
	}
	var recs []Record
	for dec.More() {
		start := lineAt(data, dec.InputOffset(), first)
		fields, order, err := decodeObject(dec)
		if err != nil {
			if strings.HasPrefix(err.Error(), "want ") {
				return nil, &ParseError{Name: name, Line: lineAt(data, dec.InputOffset(), first), Format: FormatJSON, Msg: "garbled result: " + err.Error()}
			}
			return nil, jsonErr(data, dec, err, name, first, FormatJSON, fmt.Sprintf("result %d", len(recs)+1))
		}
		r := Record{Fields: fields, Order: order}
		if err := r.finish(FormatJSON, name, start); err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	tok, err = dec.Token()
	if err != nil {
		return nil, jsonErr(data, dec, err, name, first, FormatJSON, "the result array")
	}
	if d, ok := tok.(json.Delim); !ok || d != ']' {
		return nil, &ParseError{Name: name, Line: lineAt(data, dec.InputOffset(), first), Format: FormatJSON, Msg: "want ']' closing the result array"}
	}
	if !trailing {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, &ParseError{Name: name, Line: lineAt(data, dec.InputOffset(), first), Format: FormatJSON, Msg: "unexpected content after the result array"}
		}
	}
	return recs, nil
}

// parseJSONL parses llama-bench -o jsonl: one object per line.
func parseJSONL(data []byte, name string, first int) ([]Record, error) {
	var recs []Record
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		n := first + i
		if strings.TrimSpace(line) == "" {
			continue
		}
		b := []byte(line)
		dec := json.NewDecoder(bytes.NewReader(b))
		fields, order, err := decodeObject(dec)
		if err != nil {
			if strings.HasPrefix(err.Error(), "want ") {
				return nil, &ParseError{Name: name, Line: n, Format: FormatJSONL, Msg: "garbled line: " + err.Error()}
			}
			return nil, jsonErr(b, dec, err, name, n, FormatJSONL, "this line's result")
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, &ParseError{Name: name, Line: n, Format: FormatJSONL, Msg: "unexpected content after the object (one result per line expected)"}
		}
		r := Record{Fields: fields, Order: order}
		if err := r.finish(FormatJSONL, name, n); err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}
