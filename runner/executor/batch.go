package executor

import "context"

// ReadKind says which read a Read is.
type ReadKind int

// The reads a batch carries: Executor's Stat, ReadFile and Run.
const (
	ReadStat ReadKind = iota
	ReadContent
	ReadRun
)

// Read is one read of a host inside a batch: Stat or ReadFile of Path, or
// Run of Cmd (without Stdin or Env: those travel apart).
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
