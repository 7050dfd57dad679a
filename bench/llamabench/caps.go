package llamabench

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Caps is what one llama-bench binary accepts, read from its own --help
// text. llama-bench's options changed across generations: b5600 (June 2025)
// has no -dev and takes -fa <0|1>; later builds added -dev/--device, and the
// flash-attention and memory-map spellings moved with them. Argv built from
// Caps fits the binary that will run it instead of a guess.
type Caps struct {
	// Flags maps every spelling of an option ("-fa", "--flash-attn") to the
	// value placeholder its help line shows ("<0|1>", "" for none).
	Flags map[string]string
}

// ErrNotHelp is returned when a text is not llama-bench's usage text.
var ErrNotHelp = errors.New("not a llama-bench --help text (no usage line or no options)")

// ParseHelp reads llama-bench's --help output (stdout and stderr together).
// An option line starts with spaces and a dash: "  -fa, --flash-attn <0|1>
// (default: 0)" or "  -ot --override-tensors <...>".
func ParseHelp(text []byte) (Caps, error) {
	s := string(text)
	if !strings.Contains(s, "usage:") {
		return Caps{}, ErrNotHelp
	}
	c := Caps{Flags: map[string]string{}}
	for line := range strings.SplitSeq(s, "\n") {
		t := strings.TrimLeft(line, " \t")
		if len(t) == len(line) || !strings.HasPrefix(t, "-") {
			continue // not an indented option line
		}
		var names []string
		placeholder := ""
		for _, f := range strings.Fields(t) {
			f = strings.TrimSuffix(f, ",")
			if strings.HasPrefix(f, "-") && len(f) > 1 {
				names = append(names, f)
				continue
			}
			if strings.HasPrefix(f, "<") || strings.HasPrefix(f, "[") {
				placeholder = f
			}
			break
		}
		for _, n := range names {
			// "--foo=<x>" spellings: keep the name.
			n, _, _ = strings.Cut(n, "=")
			c.Flags[n] = placeholder
		}
	}
	if len(c.Flags) == 0 {
		return Caps{}, ErrNotHelp
	}
	return c, nil
}

// Has reports whether the binary accepts flag (any spelling).
func (c Caps) Has(flag string) bool {
	_, ok := c.Flags[flag]
	return ok
}

// values returns the alternatives of a flag's placeholder: "<0|1>" -> [0 1].
func (c Caps) values(flag string) []string {
	p := strings.Trim(c.Flags[flag], "<>[]")
	if p == "" {
		return nil
	}
	return strings.Split(p, "|")
}

// MissingFlagError says the suite needs an option the image's llama-bench
// does not have.
type MissingFlagError struct {
	Flag string
	Why  string
}

func (e *MissingFlagError) Error() string {
	return fmt.Sprintf("llama-bench in this image has no %s option (%s): use an image with a newer llama-bench, or remove it from the suite", e.Flag, e.Why)
}

// Adapt rewrites an argv built for the current llama-bench (argv[0] is the
// program) into the spelling this binary takes:
//   - "-dev none" (CPU cases: no GPU device) is dropped where the binary has
//     no -dev; there -ngl 0 keeps the layers on the CPU and "-nopo 1" (where
//     it exists) keeps large-batch matrix products from being offloaded;
//   - "-fa 0|1" becomes "-fa off|on" where the help line reads
//     "-fa, --flash-attn <on|off|auto>" (Debian 0.7.0; b5600 reads <0|1>);
//   - "-mmp 0|1" becomes "-lm none|mmap" where -mmp gave way to
//     "-lm, --load-mode <auto|none|mmap|...>" (Debian 0.7.0 has no -mmp);
//   - "-o FORMAT" must be among the formats its help line offers.
//
// Any other option the binary lacks is a *MissingFlagError: the case must
// not start with an argument llama-bench rejects ("error: invalid
// parameter for argument: -dev" at b5600).
func (c Caps) Adapt(argv []string) ([]string, error) {
	if len(argv) == 0 {
		return nil, errors.New("empty argv")
	}
	out := []string{argv[0]}
	noOpOffload := false
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		val, hasVal := "", i+1 < len(argv)
		if hasVal {
			val = argv[i+1]
		}
		if !isFlag(a) {
			out = append(out, a)
			continue
		}
		switch a {
		case "-dev", "--device":
			if c.Has(a) {
				break
			}
			if val != "none" {
				return nil, &MissingFlagError{Flag: a, Why: "needed to pick device " + val}
			}
			i++ // drop "-dev none"
			if c.Has("-nopo") && !slices.Contains(argv, "-nopo") {
				noOpOffload = true
			}
			continue
		case "-fa", "--flash-attn":
			if !c.Has(a) {
				return nil, &MissingFlagError{Flag: a, Why: "the suite sets flash attention"}
			}
			if vals := c.values(a); hasVal && len(vals) > 0 && !slices.Contains(vals, val) {
				// "-fa, --flash-attn <on|off|auto>" (Debian 0.7.0) for "<0|1>" (b5600).
				spelled := map[string]string{"0": "off", "1": "on", "off": "0", "on": "1"}[val]
				if spelled == "" || !slices.Contains(vals, spelled) {
					return nil, &MissingFlagError{Flag: a + " " + val, Why: "it takes " + strings.Join(vals, "|")}
				}
				out = append(out, a, spelled)
				i++
				continue
			}
		case "-o", "--output":
			if !c.Has(a) {
				return nil, &MissingFlagError{Flag: a, Why: "haloforge reads llama-bench's JSON output"}
			}
			if vals := c.values(a); hasVal && len(vals) > 0 && !slices.Contains(vals, val) {
				return nil, &MissingFlagError{Flag: a + " " + val, Why: "its outputs are " + strings.Join(vals, ", ")}
			}
		case "-mmp", "--mmap":
			if c.Has(a) {
				break
			}
			// "-lm, --load-mode <auto|none|mmap|mlock|mmap+mlock|dio>"
			// replaced -mmp (Debian 0.7.0): none reads the model without mmap.
			mode := map[string]string{"0": "none", "1": "mmap"}[val]
			for _, lm := range []string{"-lm", "--load-mode"} {
				if c.Has(lm) && mode != "" && slices.Contains(c.values(lm), mode) {
					out = append(out, lm, mode)
					i++
					mode = "done"
					break
				}
			}
			if mode == "done" {
				continue
			}
			return nil, &MissingFlagError{Flag: a, Why: "memory-mapped loading must be switched off on ROCm, and it has no --load-mode none either"}
		default:
			if !c.Has(a) {
				return nil, &MissingFlagError{Flag: a, Why: "the suite passes it"}
			}
		}
		out = append(out, a)
	}
	if noOpOffload {
		out = append(out, "-nopo", "1")
	}
	return out, nil
}

// isFlag tells an option from a value: "-5" and "-1" are values.
func isFlag(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	r := a[1]
	return (r < '0' || r > '9') && r != '.'
}
