package llamabench

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadHelp(t *testing.T, name string) Caps {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "help", name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseHelp(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// TestParseHelp reads every captured generation's help text.
func TestParseHelp(t *testing.T) {
	tests := []struct {
		file       string
		has, lacks []string
		fa         string
	}{
		{"b5600.txt", []string{"-m", "--model", "-fa", "-mmp", "--mmap", "-o", "-ngl", "-nopo", "-ot", "--override-tensors", "-rpc"}, []string{"-dev", "--device", "-ncmoe"}, "<0|1>"},
		{"debian-sid-0.7.0.txt", []string{"-m", "-fa", "-dev", "--device", "-o", "-ngl", "-lm", "--load-mode", "-ncmoe", "-ot"}, []string{"-mmp", "--mmap"}, "<on|off|auto>"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c := loadHelp(t, tt.file)
			for _, f := range tt.has {
				if !c.Has(f) {
					t.Errorf("%s missing; flags %v", f, c.Flags)
				}
			}
			for _, f := range tt.lacks {
				if c.Has(f) {
					t.Errorf("%s should be absent", f)
				}
			}
			if tt.fa != "" && c.Flags["-fa"] != tt.fa {
				t.Errorf("-fa placeholder %q, want %q", c.Flags["-fa"], tt.fa)
			}
		})
	}
	for _, bad := range []string{"", "error: invalid parameter for argument: --help\n", "usage: x\n\nno options here\n"} {
		if _, err := ParseHelp([]byte(bad)); !errors.Is(err, ErrNotHelp) {
			t.Errorf("ParseHelp(%q) = %v, want ErrNotHelp", bad, err)
		}
	}
}

// TestAdapt builds haloforge's argv for each generation: the CPU case's
// "-dev none" must not reach b5600 (it has no -dev: "error: invalid
// parameter for argument: -dev"), and must reach a llama-bench that has it.
func TestAdapt(t *testing.T) {
	cpu := strings.Fields("llama-bench -m /models/m.gguf -p 512 -n 128 -fa 1 -r 2 -ngl 0 -dev none -o json")
	hip := strings.Fields("llama-bench -m /models/m.gguf -p 512 -n 128 -fa 0 -mmp 0 -ngl 99 -o json")
	tests := []struct {
		name, file string
		argv       []string
		want       string
		err        string
	}{
		{"b5600 cpu", "b5600.txt", cpu, "llama-bench -m /models/m.gguf -p 512 -n 128 -fa 1 -r 2 -ngl 0 -o json -nopo 1", ""},
		{"b5600 hip", "b5600.txt", hip, strings.Join(hip, " "), ""},
		{"b5600 lacks -ncmoe", "b5600.txt", append(append([]string{}, hip...), "-ncmoe", "4"), "", "no -ncmoe option"},
		{"b5600 device by name", "b5600.txt", strings.Fields("llama-bench -m m -dev Vulkan0"), "", "no -dev option"},
		{"debian cpu", "debian-sid-0.7.0.txt", cpu, "llama-bench -m /models/m.gguf -p 512 -n 128 -fa on -r 2 -ngl 0 -dev none -o json", ""},
		{"debian hip", "debian-sid-0.7.0.txt", hip, "llama-bench -m /models/m.gguf -p 512 -n 128 -fa off -lm none -ngl 99 -o json", ""},
		{"debian lacks --rpc-typo", "debian-sid-0.7.0.txt", strings.Fields("llama-bench -m m --n-cpu-moes 2"), "", "no --n-cpu-moes option"},
		{"b5600 fa spelling", "b5600.txt", strings.Fields("llama-bench -m m -fa on -o json"), "llama-bench -m m -fa 1 -o json", ""},
		{"b5600 has no fa auto", "b5600.txt", strings.Fields("llama-bench -m m -fa auto -o json"), "", "no -fa auto option"},
		{"b5600 output format", "b5600.txt", strings.Fields("llama-bench -m m -o yaml"), "", "no -o yaml option"},
		{"negative value is no flag", "b5600.txt", strings.Fields("llama-bench -m m --prio -1 -o json"), "llama-bench -m m --prio -1 -o json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadHelp(t, tt.file).Adapt(tt.argv)
			if tt.err != "" {
				var mf *MissingFlagError
				if err == nil || !errors.As(err, &mf) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want MissingFlagError containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("argv\n got %s\nwant %s", s, tt.want)
			}
		})
	}
}
