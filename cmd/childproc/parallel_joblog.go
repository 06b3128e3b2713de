package main

import (
	"bufio"
	"errors"
	"fmt"
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
	f *os.File
}

// A logRow is what a joblog says of one job.
type logRow struct {
	seq     int
	command string
	failed  bool
}

// openJoblog opens the joblog at path. Without resuming it is truncated;
// when resuming its rows are read (the last row of a job counts) and it
// is appended to.
func openJoblog(path string, mode resumeMode) (*joblog, map[int]logRow, error) {
	var rows map[int]logRow
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if mode != resumeNone {
		var err error
		if rows, err = readJoblog(path); err != nil {
			return nil, nil, err
		}
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o666)
	if err != nil {
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

// readJoblog reads the rows of an existing joblog; a missing one has
// none.
func readJoblog(path string) (map[int]logRow, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[int]logRow{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("joblog: %w", err)
	}
	defer f.Close()
	rows := map[int]logRow{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<30)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			if line+"\n" != joblogHeader {
				return nil, fmt.Errorf("joblog %s: not a joblog: its first line is not GNU parallel's header", path)
			}
			continue
		}
		row, err := parseLogRow(line)
		if err != nil {
			return nil, fmt.Errorf("joblog %s: line %d: %v", path, n, err)
		}
		rows[row.seq] = row
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("joblog %s: %w", path, err)
	}
	return rows, nil
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

// record writes the row of a finished job.
func (l *joblog) record(j *job) error {
	host := j.host
	if host == "" {
		host = ":" // GNU's name of this machine
	}
	row := fmt.Sprintf("%d\t%s\t%.3f\t%10.3f\t0\t%d\t%d\t%d\t%s\n",
		j.seq, host, float64(j.start.UnixNano())/float64(time.Second), j.runtime.Seconds(),
		j.received(), j.exit, j.signal, logCommand(j.cmd))
	_, err := l.f.WriteString(row)
	return err
}

func (l *joblog) Close() error { return l.f.Close() }

// logCommand is a command as its joblog row holds it: on one line.
func logCommand(cmd string) string {
	return strings.ReplaceAll(cmd, "\n", `\n`)
}
