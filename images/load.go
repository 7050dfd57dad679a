package images

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/haloforge/haloforge/recipes"
)

// DockerAPIVersion is the Engine API version the loader speaks: the oldest
// the project supports (Docker 20.10, API 1.41).
const DockerAPIVersion = "v1.41"

// dockerSock is where the loader container sees the Docker socket.
const dockerSock = "/run/haloforge/docker.sock"

// loadScript loads /image.tar into the Docker daemon on dockerSock through
// the Engine API (POST /images/load, then POST /images/{id}/tag for each
// reference in $HALOFORGE_REFS) and prints one line per reference.
// https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageLoad
// and #operation/ImageTag; the load answers a JSON stream whose "stream"
// line reads "Loaded image ID: sha256:..." for an untagged archive.
const loadScript = `set -eu
api="http://docker/` + DockerAPIVersion + `"
out=$(curl -sS --fail-with-body --unix-socket ` + dockerSock + ` -X POST -H 'Content-Type: application/x-tar' --data-binary @/image.tar "$api/images/load?quiet=1") || { echo "docker load failed: $out" >&2; exit 1; }
id=$(printf '%s' "$out" | grep -o 'sha256:[0-9a-f]\{64\}' | head -n 1)
[ -n "$id" ] || { echo "docker load answered without an image id: $out" >&2; exit 1; }
for ref in $HALOFORGE_REFS; do
	repo=${ref%:*} tag=${ref##*:}
	curl -sS --fail-with-body --unix-socket ` + dockerSock + ` -X POST "$api/images/$id/tag?repo=$repo&tag=$tag" >/dev/null || { echo "docker tag $id $ref failed" >&2; exit 1; }
	echo "loaded $id as $ref"
done
`

// LoadImage is one image to load: its name in the stack, the references
// to tag it with, and the container.
type LoadImage struct {
	Name  string
	Refs  []string
	Image *dagger.Container
}

// Loader is the container LoadInto runs in: the plan's base with curl.
func (s *Stack) Loader() *dagger.Container {
	b := s.builder
	return b.aptInstall(b.base, b.spec.Base, []string{"ca-certificates", "curl"})
}

// ToLoad lists the stack's runtime images with their exact reference and
// alias, in stack order.
func (s *Stack) ToLoad() []LoadImage {
	var out []LoadImage
	for _, n := range s.names {
		m := s.mans[n]
		refs := []string{m.Ref}
		if rn, ok := recipes.ParseImageRef(m.Ref); ok {
			refs = append(refs, rn.Alias())
		}
		out = append(out, LoadImage{Name: n, Refs: refs, Image: s.images[n]})
	}
	return out
}

// LoadInto loads each image into the Docker daemon behind socket (the
// Engine API), under its references, running loader (see Stack.Loader).
// A Dagger module cannot load images into its caller's Docker itself:
// Container.exportImage from inside a module function is refused with
// "client has no supported api for loading image" (dagger v0.20.0
// engine/buildkit/client.go WriteImage; core/integration/container_test.go
// TestSaveInNested), so the module is given the daemon's socket instead.
// The load runs on every call: a cached one would skip a daemon that lost
// the image.
func LoadInto(ctx context.Context, loader *dagger.Container, socket *dagger.Socket, imgs []LoadImage) (string, error) {
	loader = loader.
		WithUnixSocket(dockerSock, socket).
		WithEnvVariable("HALOFORGE_LOAD_AT", time.Now().UTC().Format(time.RFC3339Nano))
	var out strings.Builder
	for _, im := range imgs {
		res, err := loader.
			WithMountedFile("/image.tar", im.Image.AsTarball()).
			WithEnvVariable("HALOFORGE_REFS", strings.Join(im.Refs, " ")).
			WithExec([]string{"sh", "-c", loadScript}).
			Stdout(ctx)
		if err != nil {
			return out.String(), fmt.Errorf("load %s into Docker as %s: %w (give the Docker daemon's socket, e.g. --docker /var/run/docker.sock)", im.Name, strings.Join(im.Refs, " and "), PlainError(err))
		}
		out.WriteString(res)
	}
	return out.String(), nil
}
