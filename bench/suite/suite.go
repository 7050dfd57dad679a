// Package suite owns benchmark suites as data: the YAML suite format, the
// embedded default suites (seed and smoke), validation with file:line errors,
// and the expansion of a suite into the ordered list of cases the runner
// executes. It is pure logic: no Docker, no network.
package suite

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/haloforge/haloforge/internal/yamlpath"

	"github.com/haloforge/haloforge/bench"
)

//go:embed suites/*.yaml
var embedded embed.FS

// Suite is a validated suite file.
type Suite struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Profile is the recipes profile whose images the suite runs ("smoke";
	// empty for the whole stack): recorded with each run for reproduce.
	Profile string `yaml:"profile,omitempty"`
	// Defaults apply to every case unless the case overrides them.
	Defaults Defaults `yaml:"defaults,omitempty"`
	// Backends configures the backends cases may use: image and extra env.
	Backends map[string]Backend `yaml:"backends"`
	// Models the cases refer to by name.
	Models map[string]Model `yaml:"models,omitempty"`
	// Cases is the ordered list of case groups; each expands to one or more cases.
	Cases []CaseSpec `yaml:"cases"`
	// Hosts are the worker hosts of RPC cases, by name, with their Docker
	// Engine endpoints (see rpc.go).
	Hosts map[string]Host `yaml:"hosts,omitempty"`

	// Source is where the suite came from ("embedded:smoke" or a file path).
	Source string `yaml:"-"`
	// Raw is the file's bytes, stored with a run so --resume needs no flags.
	Raw []byte `yaml:"-"`
}

// Defaults are suite-wide case settings.
type Defaults struct {
	Timeout     Duration `yaml:"timeout,omitempty"`
	Repetitions int      `yaml:"repetitions,omitempty"`
	Threads     int      `yaml:"threads,omitempty"`
}

// Backend is one llama.cpp/ROCm backend the suite uses.
type Backend struct {
	// Image is the runtime image reference the backend's cases run in.
	Image string `yaml:"image"`
	// Env is added to the backend's built-in environment.
	Env map[string]string `yaml:"env,omitempty"`
	// HSAOverrideGFXVersion sets HSA_OVERRIDE_GFX_VERSION (HIP backends only);
	// only for builds without native gfx1151 code objects.
	HSAOverrideGFXVersion string `yaml:"hsa_override_gfx_version,omitempty"`
	// Args are extra llama-bench arguments for every case of this backend
	// (for example ["-ub", "1024"]).
	Args []string `yaml:"args,omitempty"`
	// Device is what the backend's cases must run on: gpu (default) or
	// software (Vulkan on Mesa lavapipe, labelled as such); see kld.go.
	Device string `yaml:"device,omitempty"`
}

// Model names a GGUF model: downloaded from a Hugging Face style repository,
// generated locally (tiny) or a local file.
type Model struct {
	Repo     string      `yaml:"repo,omitempty"`     // e.g. TheBloke/Llama-2-7B-GGUF
	Revision string      `yaml:"revision,omitempty"` // branch or commit; default main
	Files    []ModelFile `yaml:"files,omitempty"`    // one, or the shards of a split GGUF in order
	Tiny     *Tiny       `yaml:"tiny,omitempty"`
	Path     string      `yaml:"path,omitempty"` // a local GGUF file
	// SHA256 is the expected digest of a path: model's file, if known.
	SHA256 string `yaml:"sha256,omitempty"`
}

// ModelFile is one file of a repository model.
type ModelFile struct {
	Name string `yaml:"name"`
	// SHA256 is the expected digest, or "unknown": then the digest is
	// computed on first download, recorded in the cache and enforced after.
	SHA256 string `yaml:"sha256"`
	Size   int64  `yaml:"size,omitempty"` // bytes, if known
}

// Tiny asks for a small random-weight llama GGUF generated locally.
type Tiny struct {
	Type string `yaml:"type"` // f16, q8_0, q4_0
}

// CaseSpec is one entry of a suite's cases list.
type CaseSpec struct {
	Tool bench.Tool `yaml:"tool"`
	// Variant is appended to case ids (for example "b256").
	Variant  string   `yaml:"variant,omitempty"`
	Backends []string `yaml:"backends"`
	Timeout  Duration `yaml:"timeout,omitempty"`
	// Env is added to the case's environment (after the backend's).
	Env map[string]string `yaml:"env,omitempty"`
	// Command replaces the tool's default program path in the image.
	Command []string `yaml:"command,omitempty"`
	// Image overrides the backend's image for this case (for example a
	// bench-tools image with torch for mamf-finder).
	Image string `yaml:"image,omitempty"`

	// llama-bench
	Models      []string `yaml:"models,omitempty"`
	FlashAttn   []int    `yaml:"fa,omitempty"`
	Tests       []string `yaml:"tests,omitempty"` // "pp512/tg128", "pp8192/tg8192", "pp512", "tg128"
	Repetitions int      `yaml:"repetitions,omitempty"`
	Args        []string `yaml:"args,omitempty"`

	// RPC spreads a llama-bench case over worker hosts running ggml's RPC
	// server (llama-bench --rpc); see rpc.go.
	RPC *RPCSpec `yaml:"rpc,omitempty"`

	// KLD configures a llama-perplexity reference check (kld.go).
	KLD *KLDSpec `yaml:"kld,omitempty"`

	// mamf-finder
	Dtype string `yaml:"dtype,omitempty"` // default bfloat16
	Sweep string `yaml:"sweep,omitempty"` // quick (default) or full
}

// Duration is a time.Duration written as "90s", "5m" or "1h30m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration: write it like 90s, 5m or 1h30m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Known backends and tools.
var (
	KnownBackends = []string{"cpu", "hip", "hip-rocwmma", "vulkan"}
	KnownTools    = []bench.Tool{bench.ToolLlamaBench, bench.ToolMamf, bench.ToolRBT, bench.ToolPerplexity}
	TinyTypes     = []string{"f16", "q8_0", "q4_0"}
)

// Embedded lists the names of the built-in suites.
func Embedded() []string {
	ents, _ := embedded.ReadDir("suites")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Load returns a built-in suite by name, or reads a suite file when name is
// a path (contains a slash or ends in .yaml/.yml).
func Load(name string) (*Suite, error) {
	if strings.ContainsRune(name, '/') || strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read suite file: %w", err)
		}
		return Parse(name, b)
	}
	b, err := embedded.ReadFile("suites/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("unknown suite %q: built-in suites are %s, or pass a suite file path", name, strings.Join(Embedded(), ", "))
	}
	return Parse("embedded:"+name, b)
}

// Error is a suite validation error with its location.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Parse decodes and validates a suite. file names the source in errors.
func Parse(file string, b []byte) (*Suite, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ") + " (fix the YAML syntax)"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Suite
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the suite file is empty: write at least name, backends and cases (see haloforge bench --help for the format)"}
		}
		return nil, yamlError(file, err)
	}
	s.Source, s.Raw = file, b
	if err := s.validate(file, &root); err != nil {
		return nil, err
	}
	return &s, nil
}

// yamlError turns a yaml decoding error ("yaml: unmarshal errors:\n  line 3:
// field foo not found in type suite.CaseSpec") into a one-line Error.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	if strings.Contains(msg, "not found in type") {
		f := strings.Fields(msg)
		if len(f) > 1 {
			msg = fmt.Sprintf("unknown field %s: remove it or check its spelling (see haloforge bench --help for the suite format)", f[1])
		}
	}
	if strings.HasPrefix(msg, "cannot unmarshal") {
		msg += ": fix the value's type"
	}
	return &Error{File: file, Line: line, Msg: msg}
}

func (s *Suite) validate(file string, root *yaml.Node) error {
	errAt := func(field, msg string, path ...any) error {
		return &Error{File: file, Line: yamlpath.Line(root, path...), Field: field, Msg: msg}
	}
	if s.Name == "" {
		return errAt("name", "missing: give the suite a name (name: my-suite)")
	}
	if !validName(s.Name) || len(s.Name) > 64 {
		return errAt("name", fmt.Sprintf("%q: suite names name run directories and containers: use at most 64 letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. my-suite)", s.Name), "name")
	}
	if s.Defaults.Repetitions < 0 || s.Defaults.Repetitions == 0 && present(root, "defaults", "repetitions") {
		return errAt("defaults.repetitions", "must be at least 1 (or leave it out for llama-bench's default)", "defaults", "repetitions")
	}
	if s.Defaults.Timeout == 0 && present(root, "defaults", "timeout") {
		return errAt("defaults.timeout", "must be positive (or leave it out for the default of "+DefaultTimeout.String()+")", "defaults", "timeout")
	}
	if len(s.Backends) == 0 {
		return errAt("backends", "missing: list the backends the cases use with their image (backends: {cpu: {image: ...}})")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Backends)) {
		b := s.Backends[name]
		if !slices.Contains(KnownBackends, name) {
			return errAt("backends."+name, fmt.Sprintf("unknown backend: use one of %s", strings.Join(KnownBackends, ", ")), "backends", name)
		}
		if b.Image == "" {
			return errAt("backends."+name+".image", "missing: name the runtime image for this backend", "backends", name)
		}
		if b.HSAOverrideGFXVersion != "" && !strings.HasPrefix(name, "hip") {
			return errAt("backends."+name+".hsa_override_gfx_version", "only HIP backends use HSA_OVERRIDE_GFX_VERSION: remove it", "backends", name, "hsa_override_gfx_version")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Models)) {
		m := s.Models[name]
		p := []any{"models", name}
		n := 0
		if m.Repo != "" {
			n++
		}
		if m.Tiny != nil {
			n++
		}
		if m.Path != "" {
			n++
		}
		if n != 1 {
			return errAt("models."+name, "give exactly one of repo (with files), tiny or path", p...)
		}
		if !validName(name) {
			return errAt("models."+name, "model names may use letters, digits, '.', '_' and '-' only", p...)
		}
		switch {
		case m.Repo != "":
			if strings.Count(m.Repo, "/") != 1 || strings.Contains(m.Repo, "..") {
				return errAt("models."+name+".repo", "write the repository as owner/name", append(p, "repo")...)
			}
			if len(m.Files) == 0 {
				return errAt("models."+name+".files", "missing: list the GGUF file(s) with name and sha256", p...)
			}
			for i, f := range m.Files {
				fp := append(slices.Clone(p), "files", i)
				if f.Name == "" || strings.Contains(f.Name, "..") || strings.HasPrefix(f.Name, "/") {
					return errAt(fmt.Sprintf("models.%s.files[%d].name", name, i), "missing or not a relative file name in the repository", fp...)
				}
				if f.SHA256 != "unknown" && !isHex64(f.SHA256) {
					return errAt(fmt.Sprintf("models.%s.files[%d].sha256", name, i), "must be 64 hex digits, or \"unknown\" to record it on first download", append(fp, "sha256")...)
				}
			}
		case m.Tiny != nil:
			if !slices.Contains(TinyTypes, m.Tiny.Type) {
				return errAt("models."+name+".tiny.type", fmt.Sprintf("unknown tiny model type %q: use one of %s", m.Tiny.Type, strings.Join(TinyTypes, ", ")), append(p, "tiny")...)
			}
		case m.Path != "":
			if !filepath.IsAbs(m.Path) {
				return errAt("models."+name+".path", "use an absolute path to the GGUF file", append(p, "path")...)
			}
			if strings.ContainsAny(m.Path, ":,\n") || filepath.Clean(m.Path) != m.Path {
				return errAt("models."+name+".path", fmt.Sprintf("%q cannot be mounted into a container: give a clean absolute path without ':' or ',' (rename or link the file)", m.Path), append(p, "path")...)
			}
		}
		if m.SHA256 != "" && (m.Path == "" || !isHex64(m.SHA256)) {
			return errAt("models."+name+".sha256", "only path: models take a sha256 here (64 hex digits); repo models give one per file under files", append(p, "sha256")...)
		}
	}
	if err := s.validateHosts(errAt); err != nil {
		return err
	}
	if len(s.Cases) == 0 {
		return errAt("cases", "missing: list at least one case")
	}
	for i, c := range s.Cases {
		p := []any{"cases", i}
		field := func(f string) string { return fmt.Sprintf("cases[%d].%s", i, f) }
		if !slices.Contains(KnownTools, c.Tool) {
			return errAt(field("tool"), fmt.Sprintf("unknown tool %q: use one of llama-bench, mamf-finder, rocm_bandwidth_test, llama-perplexity", c.Tool), append(p, "tool")...)
		}
		if len(c.Backends) == 0 {
			return errAt(field("backends"), "missing: list the backends to run this case on", p...)
		}
		for j, b := range c.Backends {
			if _, ok := s.Backends[b]; !ok {
				msg := fmt.Sprintf("backend %q is not configured in this suite's backends", b)
				if !slices.Contains(KnownBackends, b) {
					msg = fmt.Sprintf("unknown backend %q: use one of %s", b, strings.Join(KnownBackends, ", "))
				}
				return errAt(field(fmt.Sprintf("backends[%d]", j)), msg, append(p, "backends", j)...)
			}
		}
		if c.Variant != "" && !validName(c.Variant) {
			return errAt(field("variant"), "variant names may use letters, digits, '.', '_' and '-' only", append(p, "variant")...)
		}
		if c.Repetitions < 0 || c.Repetitions == 0 && present(root, "cases", i, "repetitions") {
			return errAt(field("repetitions"), "must be at least 1 (or leave it out for the suite's default)", append(p, "repetitions")...)
		}
		if c.Timeout == 0 && present(root, "cases", i, "timeout") {
			return errAt(field("timeout"), "must be positive (or leave it out for the suite's default)", append(p, "timeout")...)
		}
		switch c.Tool {
		case bench.ToolLlamaBench:
			if len(c.Models) == 0 {
				return errAt(field("models"), "missing: llama-bench cases need models", p...)
			}
			for j, m := range c.Models {
				if _, ok := s.Models[m]; !ok {
					return errAt(field(fmt.Sprintf("models[%d]", j)), fmt.Sprintf("unknown model %q: define it under models", m), append(p, "models", j)...)
				}
			}
			if len(c.Tests) == 0 {
				return errAt(field("tests"), "missing: list tests like pp512/tg128", p...)
			}
			for j, t := range c.Tests {
				if _, _, err := ParseTest(t); err != nil {
					return errAt(field(fmt.Sprintf("tests[%d]", j)), err.Error(), append(p, "tests", j)...)
				}
			}
			for j, f := range c.FlashAttn {
				if f != 0 && f != 1 {
					return errAt(field(fmt.Sprintf("fa[%d]", j)), "flash attention is 0 (off) or 1 (on)", append(p, "fa", j)...)
				}
			}
			if c.Dtype != "" || c.Sweep != "" {
				return errAt(field("dtype"), "dtype and sweep are mamf-finder options: remove them from a llama-bench case", p...)
			}
			for j, a := range c.Args {
				if reserved(a) {
					return errAt(field(fmt.Sprintf("args[%d]", j)), fmt.Sprintf("%s is set by haloforge (use models, tests, fa, repetitions)", a), append(p, "args", j)...)
				}
			}
		case bench.ToolMamf:
			if c.Sweep != "" && c.Sweep != "quick" && c.Sweep != "full" {
				return errAt(field("sweep"), "use quick or full", append(p, "sweep")...)
			}
			if len(c.Models)+len(c.Tests)+len(c.FlashAttn) > 0 {
				return errAt(field("models"), "models, tests and fa are llama-bench options: remove them", p...)
			}
			for _, b := range c.Backends {
				if !strings.HasPrefix(b, "hip") {
					return errAt(field("backends"), "mamf-finder runs on HIP backends only", append(p, "backends")...)
				}
			}
		case bench.ToolRBT:
			if len(c.Models)+len(c.Tests)+len(c.FlashAttn) > 0 || c.Dtype != "" || c.Sweep != "" {
				return errAt(field("tool"), "rocm_bandwidth_test takes no models, tests, fa, dtype or sweep", p...)
			}
			for _, b := range c.Backends {
				if !strings.HasPrefix(b, "hip") {
					return errAt(field("backends"), "rocm_bandwidth_test runs on HIP backends only", append(p, "backends")...)
				}
			}
		}
	}
	if err := s.validateRPC(errAt); err != nil {
		return err
	}
	if err := s.validateCorrectness(errAt); err != nil {
		return err
	}
	cases, err := s.Cases0()
	if err != nil {
		return &Error{File: file, Msg: err.Error()}
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.ID] {
			return &Error{File: file, Field: "cases", Msg: fmt.Sprintf("case %s appears twice: give one of them a variant", c.ID)}
		}
		seen[c.ID] = true
	}
	return nil
}

func reserved(a string) bool {
	switch a {
	case "-m", "--model", "-p", "--n-prompt", "-n", "--n-gen", "-o", "--output", "-r", "--repetitions", "-fa", "--flash-attn", "-oe", "--output-err":
		return true
	}
	return false
}

// ParseTest parses "pp512/tg128", "pp512", "tg128" into prompt and
// generation token counts.
func ParseTest(t string) (pp, tg int, err error) {
	bad := fmt.Errorf("test %q: write ppN, tgN or ppN/tgN (for example pp512/tg128)", t)
	for part := range strings.SplitSeq(t, "/") {
		var n int
		var perr error
		switch {
		case strings.HasPrefix(part, "pp") && pp == 0:
			n, perr = strconv.Atoi(part[2:])
			pp = n
		case strings.HasPrefix(part, "tg") && tg == 0:
			n, perr = strconv.Atoi(part[2:])
			tg = n
		default:
			return 0, 0, bad
		}
		if perr != nil || n <= 0 {
			return 0, 0, bad
		}
	}
	return pp, tg, nil
}

// present reports whether the document has a node at path (mapping keys
// and sequence indexes), so an explicit zero can be told from a missing field.
func present(root *yaml.Node, path ...any) bool {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		if n == nil {
			return false
		}
		switch k := p.(type) {
		case string:
			var next *yaml.Node
			for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next = n.Content[i+1]
				}
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || k < 0 || k >= len(n.Content) {
				return false
			}
			n = n.Content[k]
		}
	}
	return n != nil
}

// validName: letters, digits, '.', '_' and '-', starting with a letter or
// digit (so never "." or "..": names become directory and container names).
func validName(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '-' || s[0] == '_' {
		return false
	}
	for _, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
