package check

import (
	"reflect"
	"testing"
)

func TestParseStep(t *testing.T) {
	for _, tc := range []struct {
		step string
		want StepRefs
	}{
		{
			step: `PATH="$PWD/.venv/bin:{{.Dep.therock}}/bin:$PATH" cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DAOTRITON_TARGET_ARCH={{.Target}} -D AOTRITON_NO_PYTHON:BOOL=ON`,
			want: StepRefs{
				Defines:    []Define{{"CMAKE_BUILD_TYPE", "Release"}, {"AOTRITON_TARGET_ARCH", "{{.Target}}"}, {"AOTRITON_NO_PYTHON", "ON"}},
				SourceDirs: []string{"."},
			},
		},
		{
			step: `cmake -S next-cmake -B build "-DCMAKE_PREFIX_PATH={{.Dep.therock}};{{.Dep.rocwmma}}" -DCMAKE_CXX_FLAGS="-U_GLIBCXX_ASSERTIONS -Wno-error=old-style-cast"`,
			want: StepRefs{
				Defines:    []Define{{"CMAKE_PREFIX_PATH", "{{.Dep.therock}};{{.Dep.rocwmma}}"}, {"CMAKE_CXX_FLAGS", "-U_GLIBCXX_ASSERTIONS -Wno-error=old-style-cast"}},
				SourceDirs: []string{"next-cmake"},
			},
		},
		{step: `cmake --build build -j {{.Jobs}}`},
		{step: `cmake --install build`},
		{
			step: `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt`,
			want: StepRefs{Files: []string{"requirements.txt"}},
		},
		{
			step: `.venv/bin/python build_tools/fetch_sources.py`,
			want: StepRefs{Files: []string{"build_tools/fetch_sources.py"}},
		},
		{
			step: `grep -q GGML_HIP_ROCWMMA_FATTN ggml/CMakeLists.txt || { echo "no option; see notes.txt" >&2; exit 1; }`,
			want: StepRefs{Files: []string{"ggml/CMakeLists.txt"}},
		},
		{
			step: `install -D -m 0755 compute/accelerator/benchmarks/mamf-finder.py {{.Prefix}}/bin/mamf-finder.py`,
			want: StepRefs{Files: []string{"compute/accelerator/benchmarks/mamf-finder.py"}},
		},
		{step: `{{.Prefix}}/bin/pip install --no-deps dist/torch-*.whl ../up.py /abs/x.py $X/y.py`},
		{
			step: `./scripts/build.sh 'a b' && MAX_JOBS=4 env FOO=1 cmake -DX=1`,
			want: StepRefs{Files: []string{"scripts/build.sh"}, Defines: []Define{{"X", "1"}}, SourceDirs: []string{"."}},
		},
	} {
		got := ParseStep(tc.step)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseStep(%q)\n got %+v\nwant %+v", tc.step, got, tc.want)
		}
	}
}

func FuzzParseStep(f *testing.F) {
	for _, s := range []string{`cmake -S . -DA=1`, `a 'b c' "d\"e" \x`, `{ x; }`, `cmake -D`, `"unterminated`, `x.py ../y.py`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := ParseStep(s)
		for _, d := range r.Defines {
			if !identRE.MatchString(d.Name) {
				t.Fatalf("define name %q", d.Name)
			}
		}
		for _, p := range append(r.Files, r.SourceDirs...) {
			if p != "." && !plainPath(p) {
				t.Fatalf("path %q is not a plain source path", p)
			}
		}
	})
}
