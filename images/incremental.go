package images

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Incremental builds. Every component step runs as one exec in a source
// tree kept in a cache volume: the step's source (upload, git checkout or
// tarball, mounted read-only at SourceInDir) is synchronised into the
// volume mounted at the component's source directory, and the recipe's
// in-tree build directory (TreeBuildDir, the top-level directory source
// uploads leave out: recipes.SourceExcludes) survives from the previous
// build of the same volume. Ninja then rebuilds only what changed inputs
// feed, generated artefacts (Vulkan shaders, HIP code objects) included.
//
// The step's result stays a function of its inputs: the volume only saves
// time. The install prefix is outside the volume, starts empty in every
// step and lands in the layer; the tree holds exactly the step's source
// after the synchronisation; and the volume's name carries BuildDirKey, so
// a change of toolchain, flags, commands, environment, base or
// dependencies starts a new, empty build directory (a clean configure).
//
// Synchronisation compares content, not timestamps: files whose content
// did not change keep their old mtime (so Ninja sees them older than its
// outputs); changed and new files get the current time (so Ninja sees them
// newer); mode-only changes are applied with chmod (mtime kept). Upload or
// checkout mtimes are never trusted: the first copy into an empty volume
// also takes the current time.

// Fixed paths of an incremental step.
const (
	// SourceInDir is where the step's pristine source is mounted.
	SourceInDir = "/haloforge/source"
	// TreeBuildDir is the recipes' in-tree build directory (cmake -B
	// build), kept across builds of one tree volume.
	TreeBuildDir = "build"
	// StepReportPath is the step's report (timings, ccache counters,
	// build directory state), outside the install prefix.
	StepReportPath = "/haloforge/step-report"
	// StepScriptPath is where the step's script (IncrementalArgv) lies in
	// the builder container.
	StepScriptPath = "/haloforge/step.sh"
	// TreeVolume prefixes the source-tree cache volume names.
	TreeVolume = "haloforge-tree"
	// StepLinePrefix starts the log line each command of an incremental
	// step begins with: "==> haloforge step NAME: COMMAND".
	StepLinePrefix = "==> haloforge step "
)

// BuildDirKey identifies the build directory a component may reuse: a
// digest of everything its step's cache key covers except the source
// (base, toolchain packages, commands, the build environment env (BuildEnv:
// recipe variables and the executor's own, such as compiler launchers),
// prefix, source directory and the keys of what it needs). Job counts are
// left out: they do not change what is built. depKeys are the cache keys
// of c.Needs, in order.
func BuildDirKey(base Base, c Component, env map[string]string, depKeys []string) string {
	keyEnv := map[string]string{}
	for k, v := range env {
		if !jobVars[k] {
			keyEnv[k] = v
		}
	}
	b, err := json.Marshal(struct {
		Base, BaseDigest, Name, Variant, Prefix, Dir string
		Packages                                     []string
		Commands                                     []Command
		Env                                          map[string]string
		Needs, NeedKeys                              []string
	}{base.Ref, base.Digest, c.Name, c.Variant, c.Prefix(), c.Dir(), uniqueSorted(c.Toolchain.Packages),
		c.Commands, keyEnv, c.Needs, depKeys})
	if err != nil {
		// Strings, slices and maps of strings only: cannot fail.
		panic("images: hashing build directory inputs: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// BuildKey is component c's BuildDirKey in spec s: on its base, with its
// build environment (BuildEnv), what it needs counted by plan cache key
// (or, in hand-written specs without one, by build key and source).
func (s Spec) BuildKey(c Component) string {
	def, _ := s.base(c.Base)
	var prefixes, deps []string
	for _, n := range c.Needs {
		nc, _ := s.Component(n)
		prefixes = append(prefixes, nc.Prefix())
		k := nc.CacheKey
		if k == "" {
			k = s.BuildKey(nc) + "@" + nc.Source.String()
		}
		deps = append(deps, k)
	}
	return BuildDirKey(def, c, BuildEnv(c, 1, prefixes), deps)
}

// jobVars are the BuildEnv variables that carry the job count.
var jobVars = map[string]bool{"JOBS": true, "CMAKE_BUILD_PARALLEL_LEVEL": true, "HALOFORGE_JOBS": true}

// TreeVolumeFor names the source-tree cache volume of component c with
// build directory key k: one per (component, variant, toolchain and flags).
func TreeVolumeFor(c Component, k string) string {
	return TreeVolume + "-" + slug(c.Key()) + "-" + k[:16]
}

// syncScript defines haloforge_sync SRC DST KEEP: make DST's content equal
// SRC's, leaving DST's top-level KEEP alone. Content is compared with
// sha256sum; unchanged files keep their mtime. Needs GNU coreutils and
// findutils (NUL-separated lists, so any file name works).
const syncScript = `haloforge_sync() {
	hs_src=$1 hs_dst=$2 hs_keep=$3
	hs_t=$(mktemp -d)
	mkdir -p "$hs_dst"
	if [ -z "$(ls -A "$hs_dst")" ]; then
		# Fresh volume: copy without the source's timestamps.
		cp -dR --preserve=mode "$hs_src/." "$hs_dst/"
		hs_n=$(find "$hs_dst" -type f | wc -l)
		echo "haloforge: source tree $hs_dst: new, $hs_n files copied"
		printf 'tree=new\nchanged=%s\nremoved=0\n' "$hs_n" >> "$HALOFORGE_REPORT"
		rm -rf "$hs_t"
		return 0
	fi
	hs_list() { (cd "$1" && shift && find . -mindepth 1 \( -path "./$hs_keep" -prune \) -o "$@" | LC_ALL=C sort -z); }
	# Entries gone from the source, or of another type: remove.
	hs_list "$hs_src" -printf '%y %P\0' > "$hs_t/src.types"
	hs_list "$hs_dst" -printf '%y %P\0' > "$hs_t/dst.types"
	LC_ALL=C comm -z -13 "$hs_t/src.types" "$hs_t/dst.types" > "$hs_t/removed"
	(cd "$hs_dst" && xargs -0r sh -c 'for e; do rm -rf -- "./${e#? }"; done' sh < "$hs_t/removed")
	(cd "$hs_src" && find . -mindepth 1 -type d -print0) | (cd "$hs_dst" && xargs -0r mkdir -p --)
	# Symbolic links with another target: replace.
	hs_list "$hs_src" -type l -printf '%P -> %l\0' > "$hs_t/src.links"
	hs_list "$hs_dst" -type l -printf '%P -> %l\0' > "$hs_t/dst.links"
	LC_ALL=C comm -z -23 "$hs_t/src.links" "$hs_t/dst.links" |
		(cd "$hs_dst" && xargs -0r sh -c 'for l; do f=${l%% -> *}; rm -f -- "./$f"; cp -d -- "$0/$f" "./$f"; done' "$hs_src")
	# Regular files with other content: copy (mtime now).
	hs_list "$hs_src" -type f -print0 | (cd "$hs_src" && xargs -0r sha256sum -z) | LC_ALL=C sort -z > "$hs_t/src.sums"
	hs_list "$hs_dst" -type f -print0 | (cd "$hs_dst" && xargs -0r sha256sum -z) | LC_ALL=C sort -z > "$hs_t/dst.sums"
	LC_ALL=C comm -z -23 "$hs_t/src.sums" "$hs_t/dst.sums" > "$hs_t/changed"
	(cd "$hs_dst" && xargs -0r sh -c 'for l; do f=${l#*  }; cp -d --preserve=mode --remove-destination -- "$0/$f" "./$f"; done' "$hs_src" < "$hs_t/changed")
	tr '\0' '\n' < "$hs_t/changed" | head -n 20 | sed 's|^[0-9a-f]*  \./|haloforge: changed |'
	# Same content, other mode: chmod (mtime kept).
	hs_list "$hs_src" -type f -printf '%m %P\0' > "$hs_t/src.modes"
	hs_list "$hs_dst" -type f -printf '%m %P\0' > "$hs_t/dst.modes"
	LC_ALL=C comm -z -23 "$hs_t/src.modes" "$hs_t/dst.modes" |
		(cd "$hs_dst" && xargs -0r sh -c 'for l; do chmod "${l%% *}" -- "./${l#* }"; done' sh)
	hs_c=$(tr -cd '\0' < "$hs_t/changed" | wc -c)
	hs_r=$(tr -cd '\0' < "$hs_t/removed" | wc -c)
	hs_k=$(( $(tr -cd '\0' < "$hs_t/src.sums" | wc -c) - hs_c ))
	echo "haloforge: source tree $hs_dst: $hs_c files changed or new, $hs_r entries removed, $hs_k unchanged (mtimes kept)"
	printf 'tree=reused\nchanged=%s\nremoved=%s\n' "$hs_c" "$hs_r" >> "$HALOFORGE_REPORT"
	rm -rf "$hs_t"
}
`

// runScript defines haloforge_run STEP SCRIPT COMMAND: run one command of
// the step in its own sh (so its set -e holds), timed, with a start line
// naming it and a failure line ending the step with its exit status.
const runScript = `haloforge_now() { date +%s.%N; }
haloforge_run() {
	printf '%s%s: %s\n' "` + StepLinePrefix + `" "$1" "$3"
	cd "$HALOFORGE_DIR"
	hr_s=$(haloforge_now)
	hr_rc=0
	sh -c "$2" "$HALOFORGE_MARK:$1" || hr_rc=$?
	hr_e=$(haloforge_now)
	hr_d=$(awk -v a="$hr_s" -v b="$hr_e" 'BEGIN { printf "%.1f", b - a }')
	printf 'cmd=%s %s %s\n' "$1" "$hr_d" "$hr_rc" >> "$HALOFORGE_REPORT"
	if [ "$hr_rc" -ne 0 ]; then
		echo "` + StepLinePrefix + `$1 failed (exit $hr_rc) after $hr_d s"
		exit "$hr_rc"
	fi
	echo "haloforge: $1 took $hr_d s"
}
`

// ccacheScript prints this step's ccache counters (from its stats log) and
// the whole cache's, and records the step's hits and misses in the report.
const ccacheScript = `haloforge_ccache() {
	command -v ccache > /dev/null 2>&1 || { echo "haloforge: no ccache in this toolchain"; return 0; }
	echo "haloforge: ccache, this step:"
	if [ -f "$CCACHE_STATSLOG" ]; then
		ccache --show-log-stats 2>&1 || true
		if hc_s=$(ccache --print-log-stats 2>/dev/null); then
			printf '%s\n' "$hc_s" | awk '
				$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { hit += $2 }
				$1 == "cache_miss" { miss += $2 }
				END { printf "ccache_hits=%d\nccache_misses=%d\n", hit, miss }' >> "$HALOFORGE_REPORT"
		fi
	else
		echo "  no compiler call went through ccache"
		printf 'ccache_hits=0\nccache_misses=0\n' >> "$HALOFORGE_REPORT"
	fi
	echo "haloforge: ccache -s (the whole cache, shared by every step of this toolchain):"
	ccache -s 2>&1 || true
}
`

// StepPaths are the paths an incremental step script uses; DefaultStepPaths
// inside the engine, temporary directories in tests.
type StepPaths struct {
	SourceIn string // the pristine source
	Report   string // the step report
	StatsLog string // ccache's stats log of this step
}

// DefaultStepPaths are the paths inside a builder container.
func DefaultStepPaths() StepPaths {
	return StepPaths{SourceIn: SourceInDir, Report: StepReportPath, StatsLog: "/tmp/haloforge-ccache-stats.log"}
}

// IncrementalArgv is the one exec of component c's step (key is its
// Key()): synchronise the source tree, then run every command of c in
// order in c.Dir(), each as StepArgv would, then print ccache counters.
// buildKey is c's BuildDirKey, recorded in the report. A failure exits
// with the command's status after a line naming its step (see
// ParseStepLine).
func IncrementalArgv(key string, c Component, buildKey string, p StepPaths) []string {
	var b strings.Builder
	b.WriteString("set -e\nexec 2>&1\n")
	b.WriteString(syncScript)
	b.WriteString(runScript)
	b.WriteString(ccacheScript)
	fmt.Fprintf(&b, "HALOFORGE_DIR=%s\nHALOFORGE_MARK=%s\nHALOFORGE_REPORT=%s\nexport CCACHE_STATSLOG=%s\n",
		shellQuote(c.Dir()), shellQuote(StepMarkerPrefix+key), shellQuote(p.Report), shellQuote(p.StatsLog))
	b.WriteString(`mkdir -p "$(dirname "$HALOFORGE_REPORT")"
rm -f "$CCACHE_STATSLOG"
printf 'started=%s\n' "$(haloforge_now)" > "$HALOFORGE_REPORT"
`)
	fmt.Fprintf(&b, "printf 'build_key=%%s\\n' %s >> \"$HALOFORGE_REPORT\"\n", shellQuote(buildKey))
	fmt.Fprintf(&b, "echo %s\n", singleQuote(StepLinePrefix+"sync: synchronise "+c.Dir()+" with the step's source"))
	fmt.Fprintf(&b, "hs_s=$(haloforge_now)\nhaloforge_sync %s \"$HALOFORGE_DIR\" %s\n", shellQuote(p.SourceIn), TreeBuildDir)
	b.WriteString(`printf 'cmd=sync %s 0\n' "$(awk -v a="$hs_s" -v b="$(haloforge_now)" 'BEGIN { printf "%.1f", b - a }')" >> "$HALOFORGE_REPORT"
if [ -d "$HALOFORGE_DIR/` + TreeBuildDir + `" ]; then
	echo "haloforge: reusing build directory $HALOFORGE_DIR/` + TreeBuildDir + ` (build key ` + short12(buildKey) + `)"
	echo build_dir=reused >> "$HALOFORGE_REPORT"
else
	echo "haloforge: clean build directory (build key ` + short12(buildKey) + `)"
	echo build_dir=clean >> "$HALOFORGE_REPORT"
	hf_clean=1
fi
`)
	// A first configure can write other files than every later one: CMake
	// projects branch on whether a cache entry is defined yet, and
	// get_cmake_property(VARIABLES) sees cache entries set later in the same
	// run only from the second run on (llama.cpp b5600: CMakeLists.txt's
	// `if (NOT DEFINED GGML_LLAMAFILE)` and ggml/CMakeLists.txt's
	// GGML_VARIABLES_EXPANDED snapshot, written into ggml-config.cmake).
	// An incremental step always configures over an existing cache, so a
	// clean one configures twice: both install the same files.
	configured := false
	for i, cmd := range c.Commands {
		fmt.Fprintf(&b, "haloforge_run %s %s %s\n", shellQuote(cmd.Step), singleQuote(StepScript(cmd)), singleQuote(oneLine(cmd)))
		if cmd.Step != "configure" || configured || (i+1 < len(c.Commands) && c.Commands[i+1].Step == "configure") {
			continue
		}
		configured = true
		b.WriteString("if [ \"${hf_clean:-}\" = 1 ]; then\n\techo \"haloforge: configure again on the clean build directory (the state every later configure starts from)\"\n")
		for _, cc := range c.Commands[:i+1] {
			if cc.Step == "configure" {
				fmt.Fprintf(&b, "\thaloforge_run %s %s %s\n", shellQuote(cc.Step), singleQuote(StepScript(cc)), singleQuote(oneLine(cc)))
			}
		}
		b.WriteString("fi\n")
	}
	b.WriteString("haloforge_ccache\nprintf 'finished=%s\\n' \"$(haloforge_now)\" >> \"$HALOFORGE_REPORT\"\n")
	return []string{"sh", "-c", b.String(), StepMarkerPrefix + key + ":build"}
}

// ParseStepLine finds the last command an incremental step started in its
// output: its step name and command line.
func ParseStepLine(out string) (step, cmd string, ok bool) {
	for _, l := range strings.Split(out, "\n") {
		rest, found := strings.CutPrefix(l, StepLinePrefix)
		if !found {
			continue
		}
		name, c, hasCmd := strings.Cut(rest, ": ")
		if !hasCmd || strings.Contains(name, " ") {
			continue // the failure line: "NAME failed (exit N) ..."
		}
		step, cmd, ok = name, c, true
	}
	return step, cmd, ok
}

// singleQuote quotes s for sh as one literal word.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneLine is a command as one log line.
func oneLine(c Command) string {
	s := strings.Join(c.Args, " ")
	if !c.Shell {
		s = shellJoin(c.Args)
	}
	return strings.Join(strings.Fields(s), " ")
}

func short12(k string) string {
	if len(k) > 12 {
		return k[:12]
	}
	return k
}
