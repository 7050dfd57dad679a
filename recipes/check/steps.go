package check

import (
	"path"
	"regexp"
	"strings"
)

// Define is one -DNAME[:TYPE]=VALUE a cmake configure command passes.
type Define struct {
	Name  string
	Value string
}

// StepRefs is what one recipe step asks of its source tree.
type StepRefs struct {
	Defines []Define // cache variables passed to cmake configure
	// SourceDirs are the -S directories of cmake configure commands ("."
	// when a configure command has none); each needs a CMakeLists.txt.
	SourceDirs []string
	// Files are source-relative paths the step reads (scripts, requirement
	// lists, CMake files).
	Files []string
}

var (
	assignRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	// fileRE is a relative path to a file haloforge expects in the source
	// tree: a script, a requirement list or a build file.
	fileRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+/-]*\.(py|sh|pl|txt|cmake|json|toml|cfg|in)$`)
	// generated trees a step may name before they exist.
	generated = []string{".venv/", "build/", "dist/", "venv/", "_build/"}
)

// ParseStep reads one step (a shell command line, before templates are
// rendered) and returns the cmake definitions, source directories and
// source files it names. Words holding templates ({{...}}), variables or
// globs are not files.
func ParseStep(step string) StepRefs {
	var out StepRefs
	for _, argv := range shellCommands(step) {
		for len(argv) > 0 && (assignRE.MatchString(argv[0]) || argv[0] == "env") {
			argv = argv[1:]
		}
		if len(argv) == 0 {
			continue
		}
		if path.Base(argv[0]) == "cmake" && isConfigure(argv[1:]) {
			src := ""
			for i := 1; i < len(argv); i++ {
				a := argv[i]
				switch {
				case a == "-D" && i+1 < len(argv):
					i++
					out.Defines = appendDefine(out.Defines, argv[i])
				case strings.HasPrefix(a, "-D"):
					out.Defines = appendDefine(out.Defines, a[2:])
				case a == "-S" && i+1 < len(argv):
					i++
					src = argv[i]
				case strings.HasPrefix(a, "-S"):
					src = a[2:]
				case a == "-B" || a == "-G" || a == "-C" || a == "-T" || a == "-A":
					i++
				}
			}
			if src == "" {
				src = "."
			}
			if plainPath(src) || src == "." {
				out.SourceDirs = append(out.SourceDirs, path.Clean(src))
			}
		}
		if a := argv[0]; strings.Contains(a, "/") && plainPath(a) && fileRE.MatchString(path.Clean(a)) {
			out.Files = append(out.Files, path.Clean(a))
		}
		for _, a := range argv[1:] {
			if plainPath(a) && fileRE.MatchString(path.Clean(a)) {
				out.Files = append(out.Files, path.Clean(a))
			}
		}
	}
	return out
}

func isConfigure(args []string) bool {
	for _, a := range args {
		switch a {
		case "--build", "--install", "-E", "-P", "--version", "--help":
			return false
		}
	}
	return true
}

func appendDefine(ds []Define, def string) []Define {
	name, value, _ := strings.Cut(def, "=")
	name, _, _ = strings.Cut(name, ":")
	if !identRE.MatchString(name) {
		return ds
	}
	return append(ds, Define{Name: name, Value: value})
}

// plainPath reports whether p is a relative path in the source tree: no
// template, variable, glob, absolute path, parent directory or generated
// tree.
func plainPath(p string) bool {
	if p == "" || strings.ContainsAny(p, "{}$*?~") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "-") {
		return false
	}
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return false
	}
	for _, g := range generated {
		if strings.HasPrefix(c+"/", g) {
			return false
		}
	}
	return true
}

// shellCommands splits a shell command line into simple commands (at
// ;, &, |, newlines and parentheses/braces) of words, with single and double
// quotes and backslashes removed the way sh would. It is a reader for
// recipe steps, not a shell: expansions are left as written.
func shellCommands(s string) [][]string {
	var cmds [][]string
	var cur []string
	var word strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			cur = append(cur, word.String())
			word.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] != '\n' {
				word.WriteByte(s[i])
				inWord = true
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			word.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				word.WriteByte(s[i])
			}
		case c == ' ' || c == '\t':
			flushWord()
		case c == ';' || c == '&' || c == '|' || c == '\n' || c == '(' || c == ')':
			flushCmd()
		case (c == '{' || c == '}') && !inWord && (i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == ';' || c == '}'):
			flushCmd()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flushCmd()
	return cmds
}
