package runner

import (
	"path/filepath"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/suite"
)

// testCache is the model cache of a test home, allowed to mount the test
// suite's path: models from their (temporary) directories.
func testCache(home string, s *suite.Suite) *models.Cache {
	c := &models.Cache{Dir: bench.ModelDir(home)}
	for _, m := range s.Models {
		if m.Path != "" {
			c.AllowDirs = append(c.AllowDirs, filepath.Dir(m.Path))
		}
	}
	return c
}
