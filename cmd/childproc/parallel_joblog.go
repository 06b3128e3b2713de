package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// joblogHeader is the first line of a joblog, GNU parallel's columns.
const joblogHeader = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

// A joblog records each finished job as a line of GNU parallel's joblog,
// written with one write(2) as the job ends, so that a joblog survives
// childproc being killed with every line complete.
type joblog struct {
	f   *os.File
	row []byte // the last row, its memory kept for the next
}

// A logRow is what a joblog says of one job.
type logRow struct {
	seq     int
	command string
	failed  bool
}

// openJoblog opens the joblog at path. Without resuming it is truncated;
// when resuming its rows are read (the last row of a job counts) and it
// is appended to, after a last row cut short (childproc killed while it
// wrote it) is taken off, so that job runs again.
func openJoblog(path string, mode resumeMode) (*joblog, map[int]logRow, error) {
	var rows map[int]logRow
	var whole int64 // resuming: the bytes of complete lines
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if mode != resumeNone {
		var err error
		if rows, whole, err = readJoblog(path); err != nil {
			return nil, nil, err
		}
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o666)
	if err != nil {
		return nil, nil, fmt.Errorf("joblog: %w", err)
	}
	if err := dropCutRow(f, whole); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("joblog: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		if _, err := f.WriteString(joblogHeader); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("joblog: %w", err)
		}
	}
	return &joblog{f: f}, rows, nil
}

// dropCutRow truncates the joblog to its complete lines, the first whole
// bytes, when it holds more.
func dropCutRow(f *os.File, whole int64) error {
	st, err := f.Stat()
	if err != nil || st.Size() <= whole {
		return err
	}
	return f.Truncate(whole)
}

// readJoblog reads the rows of an existing joblog, and how many of its
// bytes are complete lines; a missing one has none. A last line without
// its newline is a row cut short as it was written: it is not read, and
// its job counts as not finished. So is a header cut short.
func readJoblog(path string) (map[int]logRow, int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[int]logRow{}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("joblog: %w", err)
	}
	defer f.Close()
	rows := map[int]logRow{}
	br := bufio.NewReaderSize(f, 64*1024)
	var whole int64
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			if n == 1 && !strings.HasPrefix(joblogHeader, line) {
				return nil, 0, fmt.Errorf("joblog %s: not a joblog: its first line is not GNU parallel's header", path)
			}
			return rows, whole, nil // line, if any, was cut short
		}
		if err != nil {
			return nil, 0, fmt.Errorf("joblog %s: %w", path, err)
		}
		whole += int64(len(line))
		if n == 1 {
			if line != joblogHeader {
				return nil, 0, fmt.Errorf("joblog %s: not a joblog: its first line is not GNU parallel's header", path)
			}
			continue
		}
		row, err := parseLogRow(strings.TrimSuffix(line, "\n"))
		if err != nil {
			return nil, 0, fmt.Errorf("joblog %s: line %d: %v", path, n, err)
		}
		rows[row.seq] = row
	}
}

// parseLogRow reads one row of a joblog.
func parseLogRow(line string) (logRow, error) {
	cols := strings.SplitN(line, "\t", 9)
	if len(cols) != 9 {
		return logRow{}, fmt.Errorf("not a joblog row: %d columns, want 9", len(cols))
	}
	var nums [5]int
	for i, c := range []string{cols[0], cols[4], cols[5], cols[6], cols[7]} {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			return logRow{}, fmt.Errorf("not a joblog row: column %q is not a number", c)
		}
		nums[i] = n
	}
	for _, c := range []string{cols[2], cols[3]} {
		if _, err := strconv.ParseFloat(strings.TrimSpace(c), 64); err != nil {
			return logRow{}, fmt.Errorf("not a joblog row: column %q is not a time", c)
		}
	}
	if nums[0] < 1 {
		return logRow{}, fmt.Errorf("not a joblog row: job number %d", nums[0])
	}
	return logRow{seq: nums[0], command: cols[8], failed: nums[3] != 0 || nums[4] != 0}, nil
}

// record writes the row of a finished job, with one write(2).
func (l *joblog) record(j *job) error {
	b := l.row[:0]
	b = strconv.AppendInt(b, int64(j.seq), 10)
	b = append(b, '\t')
	if j.host == "" {
		b = append(b, ':') // GNU's name of this machine
	} else {
		b = append(b, j.host...)
	}
	b = append(b, '\t')
	b = strconv.AppendFloat(b, float64(j.start.UnixNano())/float64(time.Second), 'f', 3, 64)
	b = append(b, '\t')
	b = appendRuntime(b, j.runtime)
	b = append(b, "\t0\t"...)
	b = strconv.AppendInt(b, j.received(), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(j.exit), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(j.signal), 10)
	b = append(b, '\t')
	b = append(b, logCommand(j.cmd)...)
	b = append(b, '\n')
	l.row = b
	_, err := l.f.Write(b)
	return err
}

// appendRuntime appends a JobRuntime as GNU's %10.3f: seconds with three
// decimals, padded with spaces to 10 characters.
func appendRuntime(b []byte, d time.Duration) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
	if pad := 10 - (len(b) - start); pad > 0 {
		b = append(b, "          "[:pad]...)
		copy(b[start+pad:], b[start:len(b)-pad])
		copy(b[start:start+pad], "          ")
	}
	return b
}

func (l *joblog) Close() error { return l.f.Close() }

// logCommand is a command as its joblog row holds it: on one line.
func logCommand(cmd string) string {
	return strings.ReplaceAll(cmd, "\n", `\n`)
}
