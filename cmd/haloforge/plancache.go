package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/images"
	"github.com/haloforge/haloforge/recipes"
)

// cacheFlags are plan's shared-cache flags.
type cacheFlags struct {
	from []string
	keys bool
}

// dockerCacheSource is the --cached-from value that reads the images of the
// Docker daemon at $DOCKER_HOST instead of a file.
const dockerCacheSource = "docker"

func (c *cacheFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&c.from, "cached-from", nil, "mark steps a shared cache already holds: FILE (another runner's plan --json or --keys, a docker images listing or docker image inspect output) or \""+dockerCacheSource+"\" for the images on $DOCKER_HOST (repeatable)")
	cmd.Flags().BoolVar(&c.keys, "keys", false, "print the plan's cache keys (KEY STEP per line), for another runner's --cached-from")
}

const planCacheHelp = `
Shared build cache (several runners on one remote Dagger engine or Docker
host, see docs/shared-engine.md): --cached-from marks every step
"[shared cache]" when the cache already holds it (its content-derived key,
or its build image) and "[to build]" otherwise, then sums up. Sources:
another runner's plan (haloforge plan --json > a.json, or --keys > a.keys),
a listing of the shared Docker host (docker images --format
'{{.Label "io.haloforge.cache-key"}}' or '{{.Repository}}:{{.Tag}}', or
docker image inspect IMAGE...), or "docker": the images of the daemon at
$DOCKER_HOST (tcp:// or unix://; for ssh:// hosts export a listing with
docker -H ssh://... images instead). With --json the marks are printed as
JSON ({sources, steps: [{step, key, served, by, from}], served, to_build}).

  haloforge plan --keys > strix1.keys                       # on runner strix1
  haloforge plan --cached-from strix1.keys                  # on runner strix2
  haloforge plan --only llama.cpp --cached-from docker      # images on $DOCKER_HOST
  haloforge plan --cached-from a.json --cached-from b.keys --json`

// load reads every --cached-from source into one set.
func (c *cacheFlags) load(ctx context.Context) (*recipes.CacheSet, error) {
	set := recipes.NewCacheSet()
	for _, src := range c.from {
		if src == dockerCacheSource {
			if err := images.DockerCacheKeys(ctx, set); err != nil {
				return nil, err
			}
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, &recipes.InputError{Kind: recipes.ErrMalformed, Field: "--cached-from", Problem: err.Error(),
				Fix: "pass a file exported with haloforge plan --json or --keys, or \"docker\" for the images on $DOCKER_HOST", Err: err}
		}
		if err := recipes.ParseCacheKeys(src, data, set); err != nil {
			return nil, err
		}
	}
	return set, nil
}
