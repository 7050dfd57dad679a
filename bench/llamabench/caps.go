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
//   - "-fa 0|1" becomes "-fa off|on" where the binary takes on|off|auto;
//   - "-o json" becomes "-o jsonl" where only jsonl is offered (the parser
//     reads both);
//   - "-mmp 0" becomes "--load-mode" with its no-mmap value where the binary
//     replaced -mmp by a load mode.
//
// Any other option the binary lacks is a *MissingFlagError: the case must
// not start with an argument llama-bench would reject after loading.
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
			vals := c.values(a)
			if hasVal && slices.Contains(vals, "on") && !slices.Contains(vals, val) {
				switch val {
				case "0":
					val = "off"
				case "1":
					val = "on"
				}
				out = append(out, a, val)
				i++
				continue
			}
		case "-o", "--output":
			if !c.Has(a) {
				return nil, &MissingFlagError{Flag: a, Why: "haloforge reads llama-bench's JSON output"}
			}
			vals := c.values(a)
			if hasVal && len(vals) > 0 && !slices.Contains(vals, val) {
				alt := map[string]string{"json": "jsonl", "jsonl": "json"}[val]
				if alt == "" || !slices.Contains(vals, alt) {
					return nil, &MissingFlagError{Flag: a + " " + val, Why: "its outputs are " + strings.Join(vals, ", ")}
				}
				out = append(out, a, alt)
				i++
				continue
			}
		case "-mmp", "--mmap":
			if c.Has(a) {
				break
			}
			if lm := c.loadModeFlag(); lm != "" && hasVal {
				if v := c.loadModeValue(lm, val); v != "" {
					out = append(out, lm, v)
					i++
					continue
				}
			}
			return nil, &MissingFlagError{Flag: a, Why: "memory-mapped loading must be switched off on ROCm"}
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

// loadModeFlag is the spelling of a load-mode option, if the binary has one.
func (c Caps) loadModeFlag() string {
	for _, f := range []string{"-lm", "--load-mode"} {
		if c.Has(f) {
			return f
		}
	}
	return ""
}

// loadModeValue maps an -mmp value to the load mode of the same meaning.
func (c Caps) loadModeValue(flag, mmp string) string {
	vals := c.values(flag)
	want := map[string][]string{"0": {"none", "read", "no-mmap"}, "1": {"mmap"}}[mmp]
	for _, w := range want {
		if slices.Contains(vals, w) {
			return w
		}
	}
	return ""
}

// isFlag tells an option from a value: "-5" and "-1" are values.
func isFlag(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	r := a[1]
	return !(r >= '0' && r <= '9') && r != '.'
}
