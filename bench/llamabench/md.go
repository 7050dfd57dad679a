package llamabench

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// mdNames maps llama-bench's markdown column titles to its field names
// (markdown_printer::get_field_display_name upstream; "mmap" is the
// mid-2025 use_mmap column).
var mdNames = map[string]string{
	"model": "model_type", "size": "model_size", "params": "model_n_params", "backend": "backends",
	"ngl": "n_gpu_layers", "threads": "n_threads", "sm": "split_mode", "nkvo": "no_kv_offload",
	"fa": "flash_attn", "lm": "load_mode", "embd": "embeddings", "nopo": "no_op_offload",
	"noh": "no_host", "dev": "devices", "ts": "tensor_split", "ot": "tensor_buft_overrides",
	"fitt": "fit_target", "fitc": "fit_min_ctx", "mmap": "use_mmap",
}

var (
	reLabel  = regexp.MustCompile(`^(?:pp(\d+)|tg(\d+)|pp(\d+)\+tg(\d+))(?: @ d(\d+))?$`)
	reTS     = regexp.MustCompile(`^(\d+(?:\.\d+)?) ± (\d+(?:\.\d+)?)$`)
	reSize   = regexp.MustCompile(`^(\d+(?:\.\d+)?) (MiB|GiB)$`)
	reParams = regexp.MustCompile(`^(\d+(?:\.\d+)?) (M|B)$`)
	reFooter = regexp.MustCompile(`^build: (.*) \((-?\d+)\)$`)
	reSep    = regexp.MustCompile(`^\|(?:\s*:?-+:?\s*\|)+$`)
)

// splitRow splits "| a | b |" into trimmed cells; ok is false when the line
// is not a complete row (missing the closing bar: a cut line).
func splitRow(line string) ([]string, bool) {
	line = strings.TrimRight(line, " \r")
	if len(line) < 2 || line[0] != '|' || line[len(line)-1] != '|' {
		return nil, false
	}
	parts := strings.Split(line[1:len(line)-1], "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, true
}

// parseMD parses llama-bench's markdown table (its default output). The
// table carries only some fields; the rest are listed in Record.Absent.
func parseMD(data []byte, name string, first int) ([]Record, error) {
	lines := strings.Split(string(data), "\n")
	var (
		recs    []Record
		header  []string
		start   int // index in recs of the current table's first row
		inTable bool
		sawSep  bool
		footer  bool
	)
	errAt := func(i int, msg string, err error) error {
		return &ParseError{Name: name, Line: first + i, Format: FormatMD, Msg: msg, Err: err}
	}
	last := len(lines) - 1
	for last >= 0 && strings.TrimSpace(lines[last]) == "" {
		last--
	}
	for i := 0; i <= last; i++ {
		raw := strings.TrimRight(lines[i], "\r")
		t := strings.TrimSpace(raw)
		switch {
		case t == "":
			inTable = false
			continue
		case strings.HasPrefix(t, "|") && header == nil:
			cells, ok := splitRow(t)
			if !ok || !contains(cells, "t/s") || !contains(cells, "test") {
				return nil, errAt(i, "table header lacks the test and t/s columns: not llama-bench markdown", nil)
			}
			header, inTable, sawSep, footer, start = cells, true, false, false, len(recs)
			continue
		case strings.HasPrefix(t, "|") && inTable && !sawSep:
			if !reSep.MatchString(t) {
				return nil, errAt(i, "want the |---| separator row under the header", nil)
			}
			sawSep = true
			continue
		case strings.HasPrefix(t, "|") && inTable:
			cells, ok := splitRow(t)
			if !ok {
				return nil, errAt(i, "table row cut short (no closing '|'): truncated output", ErrTruncated)
			}
			if len(cells) != len(header) {
				return nil, errAt(i, fmt.Sprintf("row has %d cells, header has %d: truncated or garbled", len(cells), len(header)), ErrTruncated)
			}
			r, msg := mdRecord(header, cells)
			if msg != "" {
				return nil, errAt(i, msg, nil)
			}
			recs = append(recs, r)
			continue
		case strings.HasPrefix(t, "build:") && header != nil:
			m := reFooter.FindStringSubmatch(t)
			if m == nil {
				return nil, errAt(i, "garbled footer: want 'build: <commit> (<number>)'", nil)
			}
			for j := start; j < len(recs); j++ {
				recs[j].setBuild(m[1], m[2])
			}
			header, footer, inTable = nil, true, false
			continue
		case strings.HasPrefix(t, "|"):
			return nil, errAt(i, "table row outside a table (blank line inside the table?)", nil)
		}
		return nil, errAt(i, fmt.Sprintf("unexpected line %q in markdown output", clip(t)), nil)
	}
	if header != nil && !footer {
		return nil, &ParseError{Name: name, Line: first + last, Format: FormatMD,
			Msg: "no 'build: <commit> (<number>)' footer after the table: the run did not finish (check exit code and stderr)", Err: ErrTruncated}
	}
	return recs, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// mdRecord builds a record from one markdown row.
func mdRecord(header, cells []string) (Record, string) {
	r := Record{Format: FormatMD, Fields: map[string]any{}}
	has := map[string]bool{}
	put := func(k string, v any) {
		if _, dup := r.Fields[k]; !dup {
			r.Order = append(r.Order, k)
		}
		r.Fields[k] = v
	}
	for i, h := range header {
		v := cells[i]
		switch h {
		case "test":
			m := reLabel.FindStringSubmatch(v)
			if m == nil {
				return r, fmt.Sprintf("test label %q is not ppN, tgN, ppN+tgM or one of those with ' @ dN'", v)
			}
			var p, g, d string
			switch {
			case m[1] != "":
				p, g = m[1], "0"
			case m[2] != "":
				p, g = "0", m[2]
			default:
				p, g = m[3], m[4]
			}
			d = m[5]
			if d == "" {
				d = "0"
			}
			r.NPrompt, _ = strconv.Atoi(p)
			r.NGen, _ = strconv.Atoi(g)
			r.NDepth, _ = strconv.Atoi(d)
			put("n_prompt", p)
			put("n_gen", g)
			put("n_depth", d)
			has["n_prompt"], has["n_gen"], has["n_depth"] = true, true, true
		case "t/s":
			m := reTS.FindStringSubmatch(v)
			if m == nil {
				return r, fmt.Sprintf("t/s cell %q is not 'X ± Y' (missing or garbled result)", v)
			}
			r.AvgTS, _ = strconv.ParseFloat(m[1], 64)
			r.StddevTS, _ = strconv.ParseFloat(m[2], 64)
			put("avg_ts", m[1])
			put("stddev_ts", m[2])
			has["avg_ts"], has["stddev_ts"] = true, true
		case "size":
			m := reSize.FindStringSubmatch(v)
			if m == nil {
				return r, fmt.Sprintf("size cell %q is not 'X MiB' or 'X GiB'", v)
			}
			f, _ := strconv.ParseFloat(m[1], 64)
			unit := float64(1 << 20)
			if m[2] == "GiB" {
				unit = 1 << 30
			}
			r.ModelSize = int64(math.Round(f * unit))
			put("size", v)
			has["model_size"] = true
			r.Rounded = append(r.Rounded, "model_size")
		case "params":
			m := reParams.FindStringSubmatch(v)
			if m == nil {
				return r, fmt.Sprintf("params cell %q is not 'X M' or 'X B'", v)
			}
			f, _ := strconv.ParseFloat(m[1], 64)
			unit := 1e6
			if m[2] == "B" {
				unit = 1e9
			}
			r.ModelNParams = int64(math.Round(f * unit))
			put("params", v)
			has["model_n_params"] = true
			r.Rounded = append(r.Rounded, "model_n_params")
		default:
			field := h
			if n, ok := mdNames[h]; ok {
				field = n
			}
			put(field, v)
			if _, typed := knownKinds[field]; typed {
				if msg := r.set(field, v); msg != "" {
					return r, msg
				}
				has[field] = true
			}
		}
	}
	for _, req := range []string{"n_prompt", "avg_ts"} {
		if !has[req] {
			return r, "row lacks " + req
		}
	}
	if r.NPrompt+r.NGen == 0 {
		return r, "test has no prompt and no generated tokens"
	}
	for _, f := range typedFields {
		if !has[f] {
			r.Absent = append(r.Absent, f)
		}
	}
	return r, ""
}

// setBuild fills build_commit/build_number from the markdown footer.
func (r *Record) setBuild(commit, number string) {
	n, err := strconv.Atoi(number)
	if err != nil {
		return
	}
	r.BuildCommit, r.BuildNumber = commit, n
	if _, dup := r.Fields["build_commit"]; !dup {
		r.Order = append([]string{"build_commit", "build_number"}, r.Order...)
	}
	r.Fields["build_commit"], r.Fields["build_number"] = commit, number
	var keep []string
	for _, a := range r.Absent {
		if a != "build_commit" && a != "build_number" {
			keep = append(keep, a)
		}
	}
	r.Absent = keep
}
