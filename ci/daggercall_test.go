package ci

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The Dagger CLI names functions and arguments in kebab case: the Go SDK
// maps BuildStack to build-stack and exportImage to --export-image
// (https://docs.dagger.io/api/arguments, "Functions and arguments").

// fn is one callable function: its arguments (kebab case, with whether each
// takes no value) and the type it returns.
type fn struct {
	args   map[string]bool // name -> boolean (a flag without a value)
	result string          // type name; "" for a value that ends the chain
}

// api maps a type name to its functions.
type api map[string]map[string]fn

// constructor is the api key of the module's constructor, New: its
// arguments are the flags given before the first function.
const constructor = "(constructor)"

// kebab turns a Go identifier into the CLI's spelling.
func kebab(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// typeName is the name a result type is known by: *dagger.Container and
// Container are both "Container"; slices and basic types end the chain.
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.Ident:
		if t.Name == "error" || unicode.IsLower(rune(t.Name[0])) {
			return ""
		}
		return t.Name
	}
	return ""
}

func isBool(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "bool"
}

// addFunc records a method's arguments (ctx and variadic opts left out) and
// its first result.
func (a api) addFunc(recv, name string, ft *ast.FuncType, opts map[string]fn) {
	f := fn{args: map[string]bool{}}
	for _, p := range ft.Params.List {
		if _, variadic := p.Type.(*ast.Ellipsis); variadic {
			if o, ok := opts[recv+name+"Opts"]; ok {
				for k, v := range o.args {
					f.args[k] = v
				}
			}
			continue
		}
		if sel, ok := p.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
			continue
		}
		for _, n := range p.Names {
			f.args[kebab(n.Name)] = isBool(p.Type)
		}
	}
	if ft.Results != nil && len(ft.Results.List) > 0 {
		f.result = typeName(ft.Results.List[0].Type)
	}
	if a[recv] == nil {
		a[recv] = map[string]fn{}
	}
	a[recv][kebab(name)] = f
}

// parseAPI reads the exported methods (and, for module objects, the fields
// not marked +private) of the Go files given.
func parseAPI(t *testing.T, files []string, module bool) api {
	t.Helper()
	a := api{}
	fset := token.NewFileSet()
	var parsed []*ast.File
	opts := map[string]fn{}
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok || !ast.IsExported(ts.Name.Name) {
					continue
				}
				o := fn{args: map[string]bool{}}
				for _, fld := range st.Fields.List {
					for _, n := range fld.Names {
						if !n.IsExported() {
							continue
						}
						o.args[kebab(n.Name)] = isBool(fld.Type)
						if module && !strings.Contains(fld.Doc.Text(), "+private") {
							if a[ts.Name.Name] == nil {
								a[ts.Name.Name] = map[string]fn{}
							}
							a[ts.Name.Name][kebab(n.Name)] = fn{args: map[string]bool{}, result: typeName(fld.Type)}
						}
					}
				}
				opts[ts.Name.Name] = o
			}
		}
	}
	for _, af := range parsed {
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			if fd.Recv == nil {
				if module && fd.Name.Name == "New" {
					a.addFunc(constructor, "New", fd.Type, opts)
				}
				continue
			}
			a.addFunc(typeName(fd.Recv.List[0].Type), fd.Name.Name, fd.Type, opts)
		}
	}
	return a
}

// moduleAPI is the haloforge module (pipeline/, its main object Haloforge)
// joined with the core types of the pinned Go SDK (dagger.io/dagger).
func moduleAPI(t *testing.T) api {
	t.Helper()
	gen, err := filepath.Glob("../pipeline/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var src []string
	for _, f := range gen {
		if !strings.HasSuffix(f, "_test.go") && !strings.HasSuffix(f, ".gen.go") {
			src = append(src, f)
		}
	}
	a := parseAPI(t, src, true)
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "dagger.io/dagger").Output()
	if err != nil {
		t.Fatalf("locating the Go SDK (dagger.io/dagger) in the module cache: %v", err)
	}
	core := parseAPI(t, []string{filepath.Join(strings.TrimSpace(string(out)), "dagger.gen.go")}, false)
	for k, v := range core {
		if _, mod := a[k]; !mod {
			a[k] = v
		}
	}
	return a
}

// checkCall checks one `dagger call ...` command line against the API and
// returns what is wrong with it ("" when nothing is).
func checkCall(a api, line string) string {
	i := strings.Index(line, "dagger call")
	words := strings.Fields(line[i+len("dagger call"):])
	cur, f := "Haloforge", a[constructor]["new"]
	called := "the module's constructor"
	for j := 0; j < len(words); j++ {
		w := words[j]
		if w == "|" || w == "&&" || w == ";" || strings.HasPrefix(w, "#") || strings.HasPrefix(w, ">") {
			break
		}
		if strings.HasPrefix(w, "-") {
			name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			isBool, ok := f.args[name]
			if !ok {
				return "--" + name + " is not an argument of " + called + " (arguments: " + keys(f.args) + ")"
			}
			if !hasValue && !isBool {
				j++ // its value
			}
			continue
		}
		fns, ok := a[cur]
		if !ok || cur == "" {
			return "`" + w + "` follows " + called + ", which returns a value, not an object"
		}
		nf, ok := fns[w]
		if !ok {
			return "`" + w + "` is not a function of " + cur + " (functions: " + keys(fns) + ")"
		}
		cur, f, called = nf.result, nf, cur+"."+w
	}
	return ""
}

func keys[V any](m map[string]V) string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return strings.Join(k, ", ")
}

// docCalls returns every `dagger call` command in the project's Markdown
// (README.md, docs/, ci/README.md) and in the module's doc comments (they
// become `dagger call --help`), with its file and line; continued lines
// (a trailing backslash) are joined.
func docCalls(t *testing.T) map[string]string {
	t.Helper()
	files := []string{"../README.md", "README.md"}
	for _, g := range []string{"../docs/*.md", "../pipeline/*.go"} {
		more, _ := filepath.Glob(g)
		files = append(files, more...)
	}
	calls := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for n := 0; n < len(lines); n++ {
			l, at := lines[n], n+1
			for strings.HasSuffix(strings.TrimSpace(l), "\\") && n+1 < len(lines) {
				n++
				l = strings.TrimSuffix(strings.TrimSpace(l), "\\") + " " + lines[n]
			}
			i := strings.Index(l, "dagger call ")
			if i < 0 {
				continue
			}
			// A command, not prose: the call starts the line (after an
			// environment assignment, a shell prompt, or in Go doc
			// comments "//" or "Example:") or a code span.
			before := strings.TrimSpace(l[:i])
			before = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(before, "//"), "Example:"))
			if before != "" && !strings.HasSuffix(before, "`") && !strings.HasSuffix(before, "$") && !strings.Contains(before, "=") {
				continue
			}
			call := l[i:]
			if strings.HasSuffix(before, "`") {
				call, _, _ = strings.Cut(call, "`")
			}
			rel := strings.TrimPrefix(f, "../")
			if rel == f {
				rel = "ci/" + f
			}
			calls[rel+":"+strconv.Itoa(at)] = call
		}
	}
	return calls
}

// TestDocumentedDaggerCallsExist checks every `dagger call` line of the
// README and docs against the module's functions and arguments (read from
// pipeline/'s Go source) and the core types of the pinned Go SDK, so a
// renamed or removed function breaks this test rather than a user's command.
func TestDocumentedDaggerCallsExist(t *testing.T) {
	a := moduleAPI(t)
	calls := docCalls(t)
	if len(calls) == 0 {
		t.Fatal("no `dagger call` lines found in README.md or docs/")
	}
	for _, at := range slices.Sorted(maps.Keys(calls)) {
		if msg := checkCall(a, calls[at]); msg != "" {
			t.Errorf("%s: %s\n\t%s", at, msg, calls[at])
		} else {
			t.Logf("%s: ok: %s", at, calls[at])
		}
	}
}

// TestCheckCallCatchesRenames runs the checker on calls that must fail
// against the real module: a function that does not exist, an argument that
// does not exist, and a function of the core Container type misspelt.
func TestCheckCallCatchesRenames(t *testing.T) {
	a := moduleAPI(t)
	for _, tc := range []struct{ call, want string }{
		{"dagger call build-stack --target gfx1151 image --name llama-hip export-image --name x", ""},
		{"dagger call build --component llama.cpp --variant vulkan export --path ./out", ""},
		{"dagger call with-source --component llama.cpp --dir . build-stack --profile smoke refs", ""},
		{"dagger call --base-tarball trixie.tar build-stack --target gfx1151 --profile smoke export-images", ""},
		{"dagger call build-stack --target gfx1151 export-all", "`export-all` is not a function of Stack"},
		{"dagger call build-stack --gpu gfx1151 refs", "--gpu is not an argument of Haloforge.build-stack"},
		{"dagger call build-stack image --name llama-hip export-img --name x", "`export-img` is not a function of Container"},
		{"dagger call plan --target gfx1151 image", "`image` follows Haloforge.plan, which returns a value"},
		{"dagger call --bogus x plan", "--bogus is not an argument of the module's constructor"},
	} {
		got := checkCall(a, tc.call)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.call, got, tc.want)
		}
	}
}
