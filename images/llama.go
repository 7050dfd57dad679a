package images

// LlamaFlags returns llama.cpp's CMake flags for a variant and GPU target
// (design.md sec. 2). ok is false for an unknown variant.
func LlamaFlags(variant, target string) (flags []string, ok bool) {
	common := []string{
		"-DCMAKE_BUILD_TYPE=Release",
		"-DGGML_NATIVE=OFF",
		"-DGGML_RPC=ON",
		"-DLLAMA_CURL=OFF",
		"-DLLAMA_BUILD_TESTS=OFF",
		"-DBUILD_SHARED_LIBS=OFF",
	}
	switch variant {
	case "cpu":
		return common, true
	case "vulkan":
		return append(common, "-DGGML_VULKAN=ON"), true
	case "hip":
		return append(common, "-DGGML_HIP=ON", "-DGPU_TARGETS="+target, "-DAMDGPU_TARGETS="+target), true
	case "hip-rocwmma":
		return append(common, "-DGGML_HIP=ON", "-DGPU_TARGETS="+target, "-DAMDGPU_TARGETS="+target,
			"-DGGML_HIP_ROCWMMA_FATTN=ON"), true
	}
	return nil, false
}

// CMakeCommands assembles configure, build and install commands for a CMake
// project built out of tree in $BUILD with Ninja and ccache. targets limits
// the build (for example llama-bench alone); then install copies the built
// executables of those targets into $PREFIX/bin instead of running
// `cmake --install`, which would need every target. env prefixes the
// configure command (HIPCXX=... for HIP builds).
func CMakeCommands(flags, targets []string, env string) []Command {
	configure := []string{"cmake", "-S", "$SRC", "-B", "$BUILD", "-G", "Ninja",
		"-DCMAKE_INSTALL_PREFIX=$PREFIX",
		"-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"}
	configure = append(configure, flags...)
	cfg := Command{Step: "configure", Args: configure}
	if env != "" {
		cfg = Command{Step: "configure", Shell: true, Args: append([]string{env}, quoteAll(configure)...)}
	}
	build := []string{"cmake", "--build", "$BUILD", "--parallel", "$JOBS"}
	if len(targets) > 0 {
		build = append(build, "--target")
		build = append(build, targets...)
	}
	cmds := []Command{cfg, {Step: "build", Args: build}}
	if len(targets) == 0 {
		return append(cmds, Command{Step: "install", Args: []string{"cmake", "--install", "$BUILD"}})
	}
	script := `mkdir -p "$PREFIX/bin" && for t in ` + shellJoin(targets) + `; do install -m 0755 "$BUILD/bin/$t" "$PREFIX/bin/$t"; done && ccache --show-stats --verbose | sed -n '1,12p'`
	return append(cmds, Command{Step: "install", Shell: true, Args: []string{script}})
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return out
}
