package images

import "fmt"

// Toolchains of the offline smoke stack (Debian sid packages).
var (
	// CPUToolchain builds llama.cpp for the CPU.
	CPUToolchain = Toolchain{Name: "cpu-dev", Packages: []string{
		"build-essential", "cmake", "ninja-build", "ccache", "git", "pkgconf", "libgomp1",
	}}
	// VulkanToolchain adds the Vulkan headers, loader and glslc.
	VulkanToolchain = Toolchain{Name: "vulkan-dev", Packages: []string{
		"build-essential", "cmake", "ninja-build", "ccache", "git", "pkgconf", "libgomp1",
		"libvulkan-dev", "glslc", "spirv-headers",
	}}
)

// SmokeSpec is the offline verification stack: a Debian sid base and
// llama.cpp cpu and vulkan variants built from one source tree, only the
// given targets (nil: all). version and src describe the llama.cpp source
// used when no override is given.
func SmokeSpec(baseRef, lockDigest, version string, src Source, targets []string) Spec {
	llama := func(variant string, tc Toolchain) Component {
		flags, _ := LlamaFlags(variant, "gfx1151")
		return Component{
			Name: "llama.cpp", Variant: variant, Version: version, Source: src,
			Toolchain: tc, Commands: CMakeCommands(flags, targets, ""),
			CacheKey: fmt.Sprintf("smoke-llama.cpp-%s-%s", variant, version),
		}
	}
	return Spec{
		Target:     "gfx1151",
		LockDigest: lockDigest,
		Base:       Base{Ref: baseRef},
		Components: []Component{llama("cpu", CPUToolchain), llama("vulkan", VulkanToolchain)},
		Images: []Image{
			{Name: "llama-cpu", Ref: "haloforge/llama-cpu:gfx1151", Components: []string{"llama.cpp/cpu"},
				Packages: []string{"libgomp1"}},
			{Name: "llama-vulkan", Ref: "haloforge/llama-vulkan:gfx1151", Components: []string{"llama.cpp/vulkan"},
				Packages: []string{"libgomp1", "libvulkan1", "mesa-vulkan-drivers"}},
		},
	}
}
