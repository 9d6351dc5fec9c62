package executor

import (
	"context"
	"io"
)

// ReadKind says which read a Read is.
type ReadKind int

// The reads a batch carries: Executor's Stat, ReadFile and Run.
const (
	ReadStat ReadKind = iota
	ReadContent
	ReadRun
)

// Read is one read of a host inside a batch: Stat or ReadFile of Path, or
// Run of Cmd. A Cmd's Stdin rides in the batch only when BatchStdin can
// see it without consuming it.
type Read struct {
	Kind   ReadKind
	Path   string
	Become bool
	Cmd    Command
}

// ReadAnswer is what one Read gave, as the single call would have: Info
// (Stat), Content (ReadFile) or Result (Run), or Err. Skipped: the batch
// did not serve this read (a file too large to carry that way); ask with
// the single call.
type ReadAnswer struct {
	Info    FileInfo
	Content []byte
	Result  Result
	Err     error
	Skipped bool
}

// BatchReader is implemented by executors that answer many reads in one
// round trip, so that planning a host whose tasks read dozens of paths and
// states costs one exchange instead of one per read.
type BatchReader interface {
	ReadBatch(ctx context.Context, reads []Read) ([]ReadAnswer, error)
}

// MaxBatchStdin is the largest stdin a batched read carries; a command
// fed more travels on its own.
const MaxBatchStdin = 64 << 10

// sizedReaderAt is what strings.Reader and bytes.Reader offer: their
// content can be read at an offset without moving the reader, so a read
// can be keyed and batched while the single call still gets all of it.
type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}

// BatchStdin returns the stdin of cmd for a batch: nil, true without one;
// its bytes, true when it is a sized reader (strings.Reader, bytes.Reader)
// of at most MaxBatchStdin not yet read from; false when only the single
// call can feed it.
func BatchStdin(cmd Command) ([]byte, bool) {
	if cmd.Stdin == nil {
		return nil, true
	}
	r, ok := cmd.Stdin.(sizedReaderAt)
	if !ok || r.Size() > MaxBatchStdin {
		return nil, false
	}
	if l, ok := cmd.Stdin.(interface{ Len() int }); !ok || int64(l.Len()) != r.Size() {
		return nil, false // partly read already: ReadAt would replay it
	}
	b := make([]byte, r.Size())
	if n, err := r.ReadAt(b, 0); int64(n) != r.Size() || (err != nil && err != io.EOF) {
		return nil, false
	}
	return b, true
}
