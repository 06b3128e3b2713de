package main

import (
	"io"
	"os"
)

// newFileBuffer returns a spill buffer that is a temporary file from the
// start, to be given to the child itself as its stdout: the child's
// output goes to the file without passing through childproc, and is
// printed from it with copy_file_range or splice. It is used once a job's
// stdout has had to spill, since the jobs of such a run print much.
func newFileBuffer(dir *spillDir) (*spillBuffer, error) {
	f, err := os.CreateTemp(dir.path, "childproc-parallel-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // it lives as long as it is open
	return &spillBuffer{dir: dir, file: f, direct: true}, nil
}

// takeWritten accounts for what the child wrote to the file of a buffer
// from newFileBuffer: the bytes up to the file's offset, which the child
// shares. It returns the error the child may have met, when the file's
// disk is full (the child's own writes are not seen here); the rest of
// the run then spills through childproc, which keeps in memory what the
// disk refuses.
func (b *spillBuffer) takeWritten() error {
	if !b.direct {
		return nil
	}
	n, err := b.file.Seek(0, io.SeekCurrent)
	if err != nil && b.err == nil {
		b.err = err
	}
	b.size = n
	err = fullDisk(b.file)
	if err != nil {
		b.broken = true
		b.dir.refused(err)
	}
	return err
}

// stdoutBuffer returns the buffer of a grouped job's stdout: a file the
// child writes itself once the stdout of a job has spilled, else one in
// memory first. Once the temporary directory has refused a spill, every
// job's stdout goes through childproc again, which keeps in memory what
// the directory refuses, where a child writing the file itself would
// meet the error (a full disk) and could lose its output.
func (x *executor) stdoutBuffer() *spillBuffer {
	if x.bigOutput.Load() && !x.spill.hasRefused() {
		if b, err := newFileBuffer(x.spill); err == nil {
			return b
		}
	}
	return newSpillBuffer(x.spill)
}

// noteSpill records that a job's stdout spilled to a file, so that the
// jobs that start from then on write their stdout to a file themselves.
func (r *jobRunner) noteSpill(j *job) {
	if j.stdout != nil && j.stdout.file != nil && !j.stdout.direct {
		r.x.bigOutput.Store(true)
	}
}
