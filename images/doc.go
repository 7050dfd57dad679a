// Package images is the only code in haloforge that builds containers. It
// turns a build specification (the executable form of a plan: components,
// their pinned sources, flags and the runtime images they end up in) into
// Dagger containers: a base image, one builder container per toolchain, one
// cached step per component, and runtime images that carry only the install
// trees and runtime packages — never compilers or headers.
//
// Pure logic (job count from memory, provenance labels and manifest, command
// assembly, step error formatting) lives in files without a Dagger import so
// it is tested without an engine; execution lives in build.go (steps),
// stack.go (Execute, the one executor) and engine.go (the engine connection).
//
// Caching follows Dagger's content addressing: every component step is one
// WithExec whose inputs are the toolchain container, the component's source
// directory and the install trees of what it depends on. Changing llama.cpp's
// source therefore changes only llama.cpp's steps; ROCm steps stay cached.
// ccache and download caches are named cache volumes that survive across runs.
//
// Two things are part of every step's inputs and therefore of its cache
// key: the job count (HALOFORGE_JOBS, derived from the engine host's memory
// unless --jobs pins it; pin it to share caches between machines) and the
// cache volumes mounted. Dagger namespaces cache volumes per module, so on
// one engine the Dagger module (`dagger call build-stack`) and the client
// mode (`haloforge build`) keep separate caches: each is cached against its
// own earlier runs, not against the other's.
package images
