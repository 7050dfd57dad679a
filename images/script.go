package images

import (
	"fmt"
	"sort"
	"strings"
)

// StepMarkerPrefix starts the $0 name every build command runs under
// (sh -c SCRIPT haloforge:<component>:<step>), so a failure reported by the
// engine names its component and step.
const StepMarkerPrefix = "haloforge:"

// StepArgv is the argv the engine runs for command cmd of component key:
// `sh -c SCRIPT haloforge:KEY:STEP`. The script runs with `set -e` (the
// plan's contract is `sh -ec`: unset variables expand to nothing) and merges
// stderr into stdout so the log tail of a failure is in one stream, in order.
func StepArgv(key string, cmd Command) []string {
	return []string{"sh", "-c", StepScript(cmd), StepMarkerPrefix + key + ":" + cmd.Step}
}

// StepScript is the sh script of command cmd (see StepArgv).
func StepScript(cmd Command) string {
	if cmd.Shell {
		return "set -e\nexec 2>&1\n" + strings.Join(cmd.Args, " ") + "\n"
	}
	return "set -e\nexec 2>&1\nexec " + shellJoin(cmd.Args) + "\n"
}

// ParseStepMarker recovers component and step from an argv made by StepArgv.
func ParseStepMarker(argv []string) (component, step string, ok bool) {
	if len(argv) < 4 || argv[0] != "sh" || argv[1] != "-c" {
		return "", "", false
	}
	m, found := strings.CutPrefix(argv[3], StepMarkerPrefix)
	if !found {
		return "", "", false
	}
	i := strings.LastIndex(m, ":")
	if i <= 0 || i == len(m)-1 {
		return "", "", false
	}
	return m[:i], m[i+1:], true
}

// shellJoin quotes argv for sh. Arguments are double-quoted when needed, so
// $VAR references (such as $PREFIX and $JOBS) are expanded but spaces and
// other metacharacters are kept literally.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, needsQuote) < 0 {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`")
	return `"` + r.Replace(s) + `"`
}

// needsQuote reports runes that are not safe unquoted in sh ($ is kept so
// variables expand).
func needsQuote(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./=:,+@%$", r)
}

// AptInstallArgv installs Debian packages without recommends, in one step,
// with the base's apt options (recipes/base.yaml apt_options, e.g.
// Acquire::Check-Valid-Until=false for a frozen sid archive). The package
// list is sorted and deduplicated so the step's cache key depends only on
// the set of packages.
func AptInstallArgv(pkgs []string, aptOptions ...string) []string {
	ps := uniqueSorted(pkgs)
	opts := ""
	for _, o := range aptOptions {
		opts += " -o " + shellQuote(o)
	}
	script := "set -eu\nexport DEBIAN_FRONTEND=noninteractive\n" +
		"apt-get" + opts + " update -qq\n" +
		"apt-get" + opts + " install -y -qq --no-install-recommends " + shellJoin(ps) + "\n"
	return []string{"sh", "-c", script, StepMarkerPrefix + "apt:install"}
}

func uniqueSorted(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range in {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// BuildEnv is the environment of component c's build commands, given the
// job count and the prefixes of what it needs (in order).
func BuildEnv(c Component, jobs int, needPrefixes []string) map[string]string {
	env := map[string]string{
		"PREFIX":                     c.Prefix(),
		"JOBS":                       fmt.Sprint(jobs),
		"CMAKE_BUILD_PARALLEL_LEVEL": fmt.Sprint(jobs),
		"SRC":                        SourceDir,
		"BUILD":                      "/build/" + slug(c.Key()),
		"CCACHE_DIR":                 CCacheDir,
		"CCACHE_MAXSIZE":             CCacheMaxSize,
		"CCACHE_BASEDIR":             SourceDir,
		"CCACHE_COMPILERCHECK":       "content",
		"HALOFORGE_DOWNLOADS":        DownloadDir,
		"HALOFORGE_JOBS":             fmt.Sprint(jobs),
		// CMake (>= 3.17) takes compiler launchers from the environment, so
		// every CMake project compiles through ccache without recipe changes.
		"CMAKE_C_COMPILER_LAUNCHER":   "ccache",
		"CMAKE_CXX_COMPILER_LAUNCHER": "ccache",
		"CMAKE_HIP_COMPILER_LAUNCHER": "ccache",
	}
	if len(needPrefixes) > 0 {
		env["CMAKE_PREFIX_PATH"] = strings.Join(needPrefixes, ":")
	}
	for k, v := range c.Env {
		env[k] = v
	}
	// The ccache volume is mounted at CCacheDir: a recipe's CCACHE_DIR
	// would send every compile to an empty cache outside the volume.
	env["CCACHE_DIR"] = CCacheDir
	return env
}

// RuntimeEnv is a runtime image's environment: PATH and LD_LIBRARY_PATH
// covering every component prefix, then the image's own variables.
func RuntimeEnv(prefixes []string, extra map[string]string) map[string]string {
	var bins, libs []string
	for _, p := range prefixes {
		bins = append(bins, p+"/bin")
		libs = append(libs, p+"/lib")
	}
	bins = append(bins, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
	env := map[string]string{
		"PATH":            strings.Join(bins, ":"),
		"LD_LIBRARY_PATH": strings.Join(libs, ":"),
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// Fixed paths and sizes inside builder containers.
const (
	SourceDir   = "/src"
	CCacheDir   = "/cache/ccache"
	DownloadDir = "/cache/downloads"
	// CCacheMaxSize bounds ccache; ROCm (TheRock, CK, PyTorch) needs 20 GB or more.
	CCacheMaxSize = "25G"
)

// Cache volume names; shared across runs and stacks of one engine.
const (
	CCacheVolume      = "haloforge-ccache"
	DownloadVolume    = "haloforge-downloads"
	AptArchivesVolume = "haloforge-apt-archives"
	AptListsVolume    = "haloforge-apt-lists"
)

// CCacheVolumeFor names the ccache volume of a toolchain: one per toolchain
// so different compilers never share entries.
func CCacheVolumeFor(t Toolchain) string {
	return CCacheVolume + "-" + slug(t.Name)
}
