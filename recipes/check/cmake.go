package check

import (
	"regexp"
	"sort"
	"strings"
)

// CMake is what one project's CMake files say about cache variables: the
// names they declare (option, cmake_dependent_option, set(... CACHE ...),
// BUILD_TESTING through include(CTest)), every name they read, and the GPU
// targets (gfxNNNN) they mention, by file.
type CMake struct {
	Decls map[string]Decl     // declared name -> first declaration
	Reads map[string]Ref      // read name -> first read
	GFX   map[string][]string // file -> sorted distinct gfx names in its commands
	// Uses lists what the project enables or finds: "language:HIP",
	// "package:hip", "include:GNUInstallDirs" (lower-cased package and
	// module names), so options consumed outside the project can be told
	// apart from typos.
	Uses map[string]bool
}

// Decl is a cache variable declaration.
type Decl struct {
	Name string
	Kind string // option, cmake_dependent_option, cache, ctest
	Ref
}

// Ref is a place in a CMake file.
type Ref struct {
	File string
	Line int
}

// NewCMake returns an empty CMake.
func NewCMake() *CMake {
	return &CMake{Decls: map[string]Decl{}, Reads: map[string]Ref{}, GFX: map[string][]string{}, Uses: map[string]bool{}}
}

// Declared reports whether name is declared or read anywhere.
func (c *CMake) Declared(name string) bool {
	_, d := c.Decls[name]
	_, r := c.Reads[name]
	return d || r
}

// Names returns every declared or read name, sorted.
func (c *CMake) Names() []string {
	seen := map[string]bool{}
	for n := range c.Decls {
		seen[n] = true
	}
	for n := range c.Reads {
		seen[n] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Command is one CMake command invocation.
type Command struct {
	Name string // lower-cased
	Args []Arg
	Line int
}

// Arg is one command argument.
type Arg struct {
	Text   string
	Quoted bool // "quoted" or [[bracket]]
}

var (
	identRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	varRefRE = regexp.MustCompile(`\$(?:CACHE)?\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	gfxRE    = regexp.MustCompile(`\bgfx[0-9]{3,4}[a-z]?\b`)
)

// Add parses one CMake file's text and records what it declares and reads.
// It never fails: unbalanced text ends the file's last command.
func (c *CMake) Add(file, text string) {
	gfx := map[string]bool{}
	for _, cmd := range ParseCommands(text) {
		at := Ref{File: file, Line: cmd.Line}
		declare := func(name, kind string) {
			if _, ok := c.Decls[name]; !ok && identRE.MatchString(name) {
				c.Decls[name] = Decl{Name: name, Kind: kind, Ref: at}
			}
		}
		switch cmd.Name {
		case "option", "cmake_dependent_option":
			if len(cmd.Args) > 0 {
				declare(cmd.Args[0].Text, cmd.Name)
			}
		case "set":
			if len(cmd.Args) > 1 {
				for _, a := range cmd.Args[1:] {
					if !a.Quoted && a.Text == "CACHE" {
						declare(cmd.Args[0].Text, "cache")
						break
					}
				}
			}
		case "include":
			if len(cmd.Args) > 0 {
				c.Uses["include:"+strings.ToLower(cmd.Args[0].Text)] = true
				if cmd.Args[0].Text == "CTest" {
					// CMake's CTest module: option(BUILD_TESTING ...).
					declare("BUILD_TESTING", "ctest")
				}
			}
		case "find_package":
			if len(cmd.Args) > 0 {
				c.Uses["package:"+strings.ToLower(cmd.Args[0].Text)] = true
			}
		case "project", "enable_language":
			for _, a := range cmd.Args {
				if !a.Quoted && strings.ToUpper(a.Text) == a.Text {
					c.Uses["language:"+a.Text] = true
				}
			}
		}
		for _, a := range cmd.Args {
			if !a.Quoted && identRE.MatchString(a.Text) {
				c.read(a.Text, at)
			}
			for _, m := range varRefRE.FindAllStringSubmatch(a.Text, -1) {
				c.read(m[1], at)
			}
			for _, g := range gfxRE.FindAllString(a.Text, -1) {
				gfx[g] = true
			}
		}
	}
	if len(gfx) > 0 {
		list := make([]string, 0, len(gfx))
		for g := range gfx {
			list = append(list, g)
		}
		sort.Strings(list)
		c.GFX[file] = list
	}
}

func (c *CMake) read(name string, at Ref) {
	if _, ok := c.Reads[name]; !ok {
		c.Reads[name] = at
	}
}

// ParseCommands splits CMake text into command invocations, following the
// cmake-language(7) grammar closely enough to find arguments: # line
// comments, #[[bracket comments]], "quoted arguments" with \ escapes,
// [[bracket arguments]] (with = levels) and nested parentheses in unquoted
// arguments.
func ParseCommands(text string) []Command {
	var out []Command
	line := 1
	i, n := 0, len(text)
	advance := func(to int) {
		if to > n {
			to = n
		}
		line += strings.Count(text[i:to], "\n")
		i = to
	}
	for i < n {
		ch := text[i]
		switch {
		case ch == '#':
			if end, ok := bracketEnd(text, i+1); ok {
				advance(end)
			} else if nl := strings.IndexByte(text[i:], '\n'); nl >= 0 {
				advance(i + nl)
			} else {
				advance(n)
			}
		case isIdentStart(ch):
			j := i
			for j < n && isIdentChar(text[j]) {
				j++
			}
			k := j
			for k < n && (text[k] == ' ' || text[k] == '\t') {
				k++
			}
			if k < n && text[k] == '(' {
				cmd := Command{Name: strings.ToLower(text[i:j]), Line: line}
				advance(k + 1)
				cmd.Args = parseArgs(text, &i, &line)
				out = append(out, cmd)
			} else {
				advance(j)
			}
		case ch == '"':
			// A stray quoted string outside a command: skip it whole.
			advance(quotedEnd(text, i+1))
		default:
			advance(i + 1)
		}
	}
	return out
}

// parseArgs reads arguments from *i (just after the opening parenthesis)
// up to and past the matching closing parenthesis.
func parseArgs(text string, i, line *int) []Arg {
	var args []Arg
	n := len(text)
	depth := 0
	advance := func(to int) {
		if to > n {
			to = n
		}
		*line += strings.Count(text[*i:to], "\n")
		*i = to
	}
	for *i < n {
		ch := text[*i]
		switch ch {
		case ')':
			advance(*i + 1)
			if depth == 0 {
				return args
			}
			depth--
		case '(':
			depth++
			advance(*i + 1)
		case ' ', '\t', '\n', '\r':
			advance(*i + 1)
		case '#':
			if end, ok := bracketEnd(text, *i+1); ok {
				advance(end)
			} else if nl := strings.IndexByte(text[*i:], '\n'); nl >= 0 {
				advance(*i + nl)
			} else {
				advance(n)
			}
		case '"':
			end := quotedEnd(text, *i+1)
			body := text[*i+1 : max(*i+1, end-1)]
			args = append(args, Arg{Text: body, Quoted: true})
			advance(end)
		case '[':
			if end, ok := bracketEnd(text, *i); ok {
				open := strings.IndexByte(text[*i+1:], '[') + 2
				body := text[*i:end]
				if len(body) >= 2*open {
					body = body[open : len(body)-open]
				}
				args = append(args, Arg{Text: body, Quoted: true})
				advance(end)
				continue
			}
			fallthrough
		default:
			j := *i
			for j < n {
				c := text[j]
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == '"' || c == '#' {
					break
				}
				if c == '\\' && j+1 < n {
					j += 2
					continue
				}
				j++
			}
			if j == *i {
				j++
			}
			args = append(args, Arg{Text: text[*i:j]})
			advance(j)
		}
	}
	return args
}

// quotedEnd returns the index just past the closing quote of a quoted
// argument whose body starts at i (or len(text) when unterminated).
func quotedEnd(text string, i int) int {
	for i < len(text) {
		switch text[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i + 1
		}
		i++
	}
	return len(text)
}

// bracketEnd recognises a bracket opening [=*[ at i and returns the index
// just past its closing ]=*] (or len(text) when unterminated).
func bracketEnd(text string, i int) (int, bool) {
	if i >= len(text) || text[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(text) && text[j] == '=' {
		j++
	}
	if j >= len(text) || text[j] != '[' {
		return 0, false
	}
	closer := "]" + strings.Repeat("=", j-i-1) + "]"
	if k := strings.Index(text[j+1:], closer); k >= 0 {
		return j + 1 + k + len(closer), true
	}
	return len(text), true
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
