package recipes

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readCache(t *testing.T, c *CacheSet, names ...string) {
	t.Helper()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := ParseCacheKeys(n, data, c); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCacheGolden: runner B plans llama.cpp while the shared cache holds what
// runner A built for the smoke profile (its plan --json), an image listing
// of the shared Docker host and a real docker image inspect of a labelled
// image.
func TestCacheGolden(t *testing.T) {
	tests := []struct {
		name    string
		sel     Selection
		sources []string
	}{
		{"plan_gfx1151_llama_cached.txt", Selection{Only: []string{"llama.cpp"}},
			[]string{"plan_smoke.json", "cache_docker_images.txt", "cache_docker_inspect.json"}},
		{"plan_smoke_cached.txt", Selection{Profile: "smoke"}, []string{"plan_smoke.json"}},
		{"plan_gfx1151_cold_cache.txt", Selection{Only: []string{"llama.cpp"}, Variants: []string{"hip"}}, []string{"cache_docker_images.txt"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCacheSet()
			readCache(t, c, tc.sources...)
			p := committedPlan(t, "gfx1151", tc.sel, nil)
			rep := p.CheckCache(c)
			golden(t, tc.name, renderText(t, p, RenderOptions{Cache: &rep}))
		})
	}
}

func TestCheckCache(t *testing.T) {
	p := committedPlan(t, "gfx1151", Selection{Only: []string{"llama.cpp"}}, nil)
	c := NewCacheSet()
	readCache(t, c, "plan_smoke.json", "cache_docker_images.txt", "cache_docker_inspect.json")
	rep := p.CheckCache(c)
	got := map[string]string{}
	for _, s := range rep.Steps {
		got[s.Step] = s.By
	}
	want := map[string]string{
		"base": "key", "llama.cpp/cpu": "key", "llama.cpp/vulkan": "key", // runner A's smoke plan
		"therock/default": "build image", // the shared host has its build image
		"rocwmma/default": "key",         // the labelled image from docker image inspect
		"llama.cpp/hip":   "", "llama.cpp/hip-rocwmma": "", "llama.cpp/hip-distro": "",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("served by: got %v\nwant %v", got, want)
	}
	if rep.Served != 5 || !reflect.DeepEqual(rep.ToBuild, []string{"llama.cpp/hip-distro", "llama.cpp/hip", "llama.cpp/hip-rocwmma"}) {
		t.Errorf("served %d, to build %v", rep.Served, rep.ToBuild)
	}
	// A plan checked against its own keys is served entirely; against
	// nothing, everything is to build.
	own := NewCacheSet()
	if err := ParseCacheKeys("own", p.KeysText(), own); err != nil {
		t.Fatal(err)
	}
	if r := p.CheckCache(own); len(r.ToBuild) != 0 || r.Served != len(p.Steps)+1 {
		t.Errorf("own keys: %d served, to build %v", r.Served, r.ToBuild)
	}
	if r := p.CheckCache(NewCacheSet()); r.Served != 0 || len(r.ToBuild) != len(p.Steps)+1 {
		t.Errorf("empty cache: %d served, to build %v", r.Served, r.ToBuild)
	}
	// Another target's runner serves the target-independent steps (base,
	// CPU and Vulkan builds) and none of the GPU code.
	other := NewCacheSet()
	if err := ParseCacheKeys("gfx1100", committedPlan(t, "gfx1100", Selection{Only: []string{"llama.cpp"}}, nil).JSON(), other); err != nil {
		t.Fatal(err)
	}
	wantBuild := []string{"llama.cpp/hip-distro", "therock/default", "llama.cpp/hip", "rocwmma/default", "llama.cpp/hip-rocwmma"}
	if r := p.CheckCache(other); !reflect.DeepEqual(r.ToBuild, wantBuild) || r.Served != 3 {
		t.Errorf("gfx1100 keys for gfx1151: served %d, to build %v; want 3 served, to build %v", r.Served, r.ToBuild, wantBuild)
	}
}

func TestParseCacheKeysErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"empty", "  \n", "keys.txt: empty cache listing"},
		{"garbage line", "# ok\n" + strings.Repeat("a", 64) + "\nnot a key\n", "keys.txt:3: \"not\" is neither a cache key nor an image reference"},
		{"short key", "abc123\n", "keys.txt:1: \"abc123\" is neither"},
		{"broken json", `{"steps": [`, "keys.txt: not a plan JSON"},
		{"object not a plan", `{"hello": 1}`, "keys.txt: steps: a JSON object without base and steps is not a plan"},
		{"plan with a bad key", `{"base": {"key": "x"}, "steps": []}`, `keys.txt: key: "x" is not a 64-hex cache key`},
		{"inspect not an array of images", `[1, 2]`, "keys.txt: not docker image inspect output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ParseCacheKeys("keys.txt", []byte(tc.data), NewCacheSet())
			var ie *InputError
			if err == nil || !errors.As(err, &ie) || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an input error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func FuzzParseCacheKeys(f *testing.F) {
	for _, n := range []string{"plan_smoke.json", "cache_docker_images.txt", "cache_docker_inspect.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("{}"))
	f.Add([]byte("[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewCacheSet()
		err := ParseCacheKeys("fuzz", data, c)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("not a one-line input error: %q", err)
			}
			return
		}
		for k := range c.keys {
			if !fullKeyRE.MatchString(k) {
				t.Fatalf("accepted key %q", k)
			}
		}
	})
}
