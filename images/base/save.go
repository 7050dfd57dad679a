package base

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/internal/atomicfile"
)

// Saver is the part of the Engine API Save uses.
type Saver interface {
	ImageSave(ctx context.Context, refs []string, o ...client.ImageSaveOption) (client.ImageSaveResult, error)
}

var _ Saver = (*client.Client)(nil)

// Save writes images refs as one `docker save` tarball to path (atomically:
// a failed save leaves no partial file), the form `haloforge build
// --base-tarball` and `dagger call --base-tarball` import. It returns the
// file's size.
func Save(ctx context.Context, d Saver, refs []string, path string) (int64, error) {
	ref := strings.Join(refs, ", ")
	rc, err := d.ImageSave(ctx, refs)
	if err != nil {
		return 0, fmt.Errorf("save %s: %w", ref, err)
	}
	defer func() { _ = rc.Close() }()
	var n int64
	err = atomicfile.WriteFrom(path, 0o644, func(w io.Writer) error {
		var cerr error
		n, cerr = io.Copy(w, rc)
		return cerr
	})
	if err != nil {
		return 0, fmt.Errorf("save %s to %s: %w", ref, path, err)
	}
	if n == 0 {
		_ = os.Remove(path)
		return 0, fmt.Errorf("save %s: the daemon returned an empty tarball", ref)
	}
	return n, nil
}
