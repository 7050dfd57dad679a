package images

import (
	"strings"
	"testing"
)

func TestLlamaFlags(t *testing.T) {
	cases := []struct {
		variant string
		want    []string
		notWant []string
	}{
		{"cpu", []string{"-DGGML_RPC=ON", "-DGGML_NATIVE=OFF"}, []string{"-DGGML_VULKAN=ON", "-DGGML_HIP=ON"}},
		{"vulkan", []string{"-DGGML_VULKAN=ON"}, []string{"-DGGML_HIP=ON"}},
		{"hip", []string{"-DGGML_HIP=ON", "-DGPU_TARGETS=gfx1151"}, []string{"-DGGML_HIP_ROCWMMA_FATTN=ON"}},
		{"hip-rocwmma", []string{"-DGGML_HIP=ON", "-DGGML_HIP_ROCWMMA_FATTN=ON", "-DGPU_TARGETS=gfx1151"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.variant, func(t *testing.T) {
			flags, ok := LlamaFlags(tc.variant, "gfx1151")
			if !ok {
				t.Fatal("variant unknown")
			}
			joined := " " + strings.Join(flags, " ") + " "
			for _, w := range tc.want {
				if !strings.Contains(joined, " "+w+" ") {
					t.Errorf("flags lack %s: %v", w, flags)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(joined, " "+w+" ") {
					t.Errorf("flags have %s: %v", w, flags)
				}
			}
		})
	}
	if _, ok := LlamaFlags("metal", "gfx1151"); ok {
		t.Error("unknown variant accepted")
	}
}

func TestCMakeCommands(t *testing.T) {
	all := CMakeCommands([]string{"-DX=1"}, nil, "")
	if len(all) != 3 || all[2].Args[1] != "--install" {
		t.Errorf("full build should end with cmake --install: %+v", all)
	}
	some := CMakeCommands(nil, []string{"llama-bench"}, "")
	if got := strings.Join(some[1].Args, " "); got != "cmake --build $BUILD --parallel $JOBS --target llama-bench" {
		t.Errorf("build = %q", got)
	}
	if !some[2].Shell || !strings.Contains(some[2].Args[0], `install -m 0755 "$BUILD/bin/$t"`) {
		t.Errorf("install of selected targets = %+v", some[2])
	}
	hip := CMakeCommands([]string{"-DGGML_HIP=ON"}, nil, `HIPCXX="$(hipconfig -l)/clang"`)
	if !hip[0].Shell || !strings.HasPrefix(strings.Join(hip[0].Args, " "), `HIPCXX="$(hipconfig -l)/clang" cmake -S $SRC`) {
		t.Errorf("configure with env = %+v", hip[0])
	}
	for _, c := range some {
		if c.Step == "" {
			t.Error("command without step name")
		}
	}
}
