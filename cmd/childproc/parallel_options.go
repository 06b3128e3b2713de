package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/childproc/childproc"
	"github.com/spf13/pflag"
)

// parallelOptions is what the flags of childproc parallel ask for.
type parallelOptions struct {
	jobs       int
	keepOrder  bool
	output     outputMode
	tag        bool
	tagString  string
	joblog     string
	resume     resumeMode
	retries    int
	timeout    timeoutSpec
	halt       haltSpec
	delay      time.Duration
	dryRun     bool
	quote      bool
	shellQuote bool
	progress   bool
	json       bool
	termseq    []termStep
	limits     childproc.Limits
	link       bool
	argFiles   []string
	tmpdir     string
	shell      string
	command    []string
	sources    []sourceSpec
	cluster    clusterOptions // url "": the jobs run here
	batch      string         // --batch: the cluster's durable batch; "" for none
}

// outputMode is how the output of jobs reaches childproc's own.
type outputMode int

const (
	outputGroup      outputMode = iota // each job's output whole, once it has ended
	outputLineBuffer                   // whole lines as they come
	outputUngroup                      // straight through, as the jobs write it
)

// resumeMode says which jobs a joblog spares.
type resumeMode int

const (
	resumeNone   resumeMode = iota // run every job, truncate the joblog
	resumeAll                      // skip the jobs the joblog has
	resumeFailed                   // skip the jobs the joblog has as successful
)

// errHelp is returned by parseParallel for --help.
var errHelp = errors.New("help")

// parseFlags parses args with fs, and returns errHelp for --help.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if help, _ := fs.GetBool("help"); help {
		return errHelp
	}
	return nil
}

// parseParallel reads the arguments of childproc parallel.
func parseParallel(args []string) (*parallelOptions, error) {
	o := &parallelOptions{jobs: runtime.NumCPU(), retries: 1, termseq: defaultTermseq}
	fs, spec := newParallelFlags(o)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := spec.apply(o, fs); err != nil {
		return nil, err
	}
	rest, err := o.cluster.takeURL(fs)
	if err != nil {
		return nil, err
	}
	if err := o.checkCluster(); err != nil {
		return nil, err
	}
	o.command, o.sources = splitSources(rest)
	if err := refusePerl(o.command); err != nil {
		return nil, err
	}
	o.shell = jobShell()
	return o, nil
}

// refusePerl refuses GNU's {= perl expression =} replacement strings,
// which childproc does not evaluate: run as text they could make a
// command other than the one meant.
func refusePerl(command []string) error {
	joined := strings.Join(command, " ")
	if i := strings.Index(joined, "{="); i >= 0 && strings.Contains(joined[i:], "=}") {
		return errors.New("{= perl expression =} replacement strings are not supported")
	}
	return nil
}

// newParallelFlags returns the flag set of childproc parallel, which
// sets o and the returned flagSpec.
func newParallelFlags(o *parallelOptions) (*pflag.FlagSet, *flagSpec) {
	fs := pflag.NewFlagSet("childproc parallel", pflag.ContinueOnError)
	fs.SetInterspersed(false) // the first word that is not a flag starts the command, as in GNU
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	return fs, o.define(fs)
}

// flagSpec holds the flags whose values parseParallel converts after
// parsing.
type flagSpec struct {
	jobs, timeout, halt, delay, termseq, memory, cpu string
	tagString                                        string
	group, lineBuffer, ungroup                       bool
	resume, resumeFailed                             bool
	bar, eta, progress                               bool
	retries                                          int
	files                                            uint64
}

// define declares every flag on fs.
func (o *parallelOptions) define(fs *pflag.FlagSet) *flagSpec {
	s := &flagSpec{}
	jobs := newStringValue(&s.jobs)
	fs.VarP(jobs, "jobs", "j", "run N jobs at once: N, +N, -N (CPUs plus or minus N), N% of the CPUs, 0 for as many as possible (default: the number of CPUs)")
	fs.VarP(jobs, "max-procs", "P", "same as --jobs")
	fs.BoolVarP(&o.keepOrder, "keep-order", "k", false, "print the output of jobs in the order of their input")
	fs.BoolVar(&s.group, "group", false, "print each job's output whole once it has ended, stdout then stderr (the default)")
	fs.BoolVar(&s.lineBuffer, "line-buffer", false, "print whole lines as soon as a job writes them (a line past 1 MiB in pieces of 1 MiB, the tag before the first)")
	fs.BoolVar(&s.lineBuffer, "lb", false, "same as --line-buffer")
	fs.BoolVarP(&s.ungroup, "ungroup", "u", false, "let the output of jobs through as they write it (lines may mix)")
	fs.BoolVar(&o.tag, "tag", false, "start every output line with the job's arguments and a tab")
	fs.StringVar(&s.tagString, "tagstring", "", "start every output line with `STR` (replacement strings allowed) and a tab")
	fs.StringVar(&o.joblog, "joblog", "", "log each finished job to `FILE` in GNU parallel's format")
	fs.BoolVar(&s.resume, "resume", false, "skip the jobs that the joblog has")
	fs.BoolVar(&s.resumeFailed, "resume-failed", false, "skip the jobs that the joblog has as successful, run the others again")
	fs.IntVar(&s.retries, "retries", 1, "run a failing job up to `N` times in all; only the last attempt is printed and logged")
	fs.StringVar(&s.timeout, "timeout", "", "stop a job that runs longer than `D` (seconds, or with s, m, h, d; or N% of the median run time)")
	fs.StringVar(&s.halt, "halt", "", "stop early, `WHEN,ON=N`: WHEN now or soon, ON fail, success or done, N a count or a percentage (N%); or never, 0, 1, 2 as GNU")
	fs.StringVar(&s.halt, "halt-on-error", "", "same as --halt")
	fs.StringVar(&s.delay, "delay", "", "wait `D` between the starts of two jobs")
	fs.StringVar(&s.termseq, "termseq", "", "how a job is stopped, `SEQ`: signals and the ms to wait after each (default GNU's TERM,200,TERM,100,TERM,50,KILL,25)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the commands instead of running them")
	fs.BoolVar(&o.dryRun, "dryrun", false, "same as --dry-run")
	fs.BoolVarP(&o.quote, "quote", "q", false, "quote the command's words, so the shell runs them as given")
	fs.BoolVar(&o.shellQuote, "shell-quote", false, "print the arguments shell-quoted instead of running anything")
	fs.BoolVar(&s.bar, "bar", false, "draw a progress bar on stderr when it is a terminal")
	fs.BoolVar(&s.eta, "eta", false, "same as --bar (the line shows the estimated time left)")
	fs.BoolVar(&s.progress, "progress", false, "same as --bar")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per finished job instead of its output (a stream that is not valid UTF-8 is also in stdout_base64 or stderr_base64, exactly)")
	fs.StringVar(&s.memory, "memory", "", "cap each job's memory at `SIZE` (K, M, G, T: powers of 1024)")
	fs.StringVar(&s.cpu, "cpu", "", "cap each job's CPU time at `D`")
	fs.Uint64Var(&s.files, "files", 0, "cap each job's open files at `N`")
	fs.BoolVar(&o.link, "link", false, "pair the input sources instead of combining them")
	fs.BoolVar(&o.link, "xapply", false, "same as --link")
	fs.StringArrayVarP(&o.argFiles, "arg-file", "a", nil, "read arguments from `FILE`, one a line (an input source, like ::::)")
	fs.StringVar(&o.tmpdir, "tmpdir", "", "put spilled output in `DIR` (default: $TMPDIR or /tmp)")
	o.cluster.define(fs, "run the jobs on the workers (childproc worker) of a cluster,")
	fs.StringVar(&o.batch, "batch", "", "with --cluster: keep the jobs and their results in the cluster as the durable batch `NAME`, for --resume")
	fs.Bool("will-cite", false, "accepted for GNU parallel's sake; does nothing")
	fs.BoolP("help", "h", false, "show this help")
	return s
}

// apply converts the flags kept as text and checks that they agree.
func (s *flagSpec) apply(o *parallelOptions, fs *pflag.FlagSet) error {
	var err error
	if s.jobs != "" {
		if o.jobs, err = parseJobs(s.jobs, runtime.NumCPU()); err != nil {
			return err
		}
	}
	if s.timeout != "" {
		if o.timeout, err = parseTimeout(s.timeout); err != nil {
			return err
		}
	}
	if s.halt != "" {
		if o.halt, err = parseHalt(s.halt); err != nil {
			return err
		}
	}
	if s.delay != "" {
		if o.delay, err = parseDuration(s.delay); err != nil {
			return fmt.Errorf("--delay: %w", err)
		}
	}
	if s.termseq != "" {
		if o.termseq, err = parseTermseq(s.termseq); err != nil {
			return err
		}
	}
	if err := s.applyLimits(o); err != nil {
		return err
	}
	if s.retries < 0 {
		return fmt.Errorf("--retries %d: want a count of 0 or more", s.retries)
	}
	o.retries = max(s.retries, 1)
	o.tagString = s.tagString
	o.tag = o.tag || fs.Changed("tagstring")
	o.progress = s.bar || s.eta || s.progress
	switch {
	case s.ungroup:
		o.output = outputUngroup
	case s.lineBuffer:
		o.output = outputLineBuffer
	}
	switch {
	case s.resume && s.resumeFailed:
		return errors.New("--resume and --resume-failed: give one of them")
	case s.resume:
		o.resume = resumeAll
	case s.resumeFailed:
		o.resume = resumeFailed
	}
	if o.resume != resumeNone && o.joblog == "" {
		return errors.New("--resume and --resume-failed need --joblog FILE")
	}
	return nil
}

// nominalSlot is the slot {%} names in a job whose slot is not known
// when its command is composed (--dry-run, --cluster): its place in a
// round of -j jobs.
func (o *parallelOptions) nominalSlot(seq int) int {
	return (seq-1)%max(min(o.jobs, 1<<16), 1) + 1
}

// checkCluster refuses what a run on a cluster cannot do.
func (o *parallelOptions) checkCluster() error {
	if o.cluster.url == "" {
		if o.batch != "" {
			return errors.New("--batch: for a run with --cluster")
		}
		return nil
	}
	if o.output != outputGroup {
		return errors.New("--line-buffer and --ungroup: not with --cluster, whose jobs' output comes back whole")
	}
	if o.resume != resumeNone && o.batch == "" {
		return errors.New("--resume and --resume-failed with --cluster need --batch NAME, the batch of the run to resume")
	}
	return o.cluster.check()
}

// applyLimits sets the per-job caps.
func (s *flagSpec) applyLimits(o *parallelOptions) error {
	if s.memory != "" {
		n, err := parseSize(s.memory)
		if err != nil {
			return fmt.Errorf("--memory: %w", err)
		}
		o.limits.Memory = n
	}
	if s.cpu != "" {
		d, err := parseDuration(s.cpu)
		if err != nil {
			return fmt.Errorf("--cpu: %w", err)
		}
		o.limits.CPUTime = d
	}
	o.limits.OpenFiles = s.files
	return nil
}

// jobShell is the shell that runs a job's command: $PARALLEL_SHELL, as in
// GNU parallel, else $SHELL, else /bin/sh.
func jobShell() string {
	for _, v := range []string{"PARALLEL_SHELL", "SHELL"} {
		if sh := os.Getenv(v); sh != "" {
			return sh
		}
	}
	return childproc.DefaultShell
}

// parseJobs reads a -j value for a machine with ncpu CPUs.
func parseJobs(v string, ncpu int) (int, error) {
	bad := fmt.Errorf("-j %q: want N, +N, -N or N%%", v)
	var n int
	var err error
	switch {
	case strings.HasSuffix(v, "%"):
		var pct float64
		pct, err = strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || pct < 0 || math.IsInf(pct, 0) || math.IsNaN(pct) {
			return 0, bad
		}
		n = max(int(float64(ncpu)*pct/100), 1)
	case strings.HasPrefix(v, "+"):
		n, err = strconv.Atoi(v[1:])
		n += ncpu
	case strings.HasPrefix(v, "-"):
		n, err = strconv.Atoi(v[1:])
		n = max(ncpu-n, 1)
	default:
		n, err = strconv.Atoi(v)
		if n == 0 && err == nil {
			n = math.MaxInt32 // as many as possible
		}
	}
	if err != nil || n < 0 {
		return 0, bad
	}
	return n, nil
}

// timeoutSpec is a --timeout: a fixed duration, or a percentage of the
// median run time of the jobs that have finished.
type timeoutSpec struct {
	d   time.Duration
	pct float64
}

func parseTimeout(v string) (timeoutSpec, error) {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		pct, err := strconv.ParseFloat(p, 64)
		if err != nil || pct <= 0 || math.IsInf(pct, 0) {
			return timeoutSpec{}, fmt.Errorf("--timeout %q: want a positive percentage", v)
		}
		return timeoutSpec{pct: pct}, nil
	}
	d, err := parseDuration(v)
	if err != nil {
		return timeoutSpec{}, fmt.Errorf("--timeout: %w", err)
	}
	return timeoutSpec{d: d}, nil
}

// durationPart is one number and unit of a GNU duration ("1h30m", "2.5").
var durationPart = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([smhd]?)`)

var durationUnits = map[string]time.Duration{"": time.Second, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

// parseDuration reads GNU parallel's durations: seconds, or numbers with
// s, m, h or d, one after the other ("1h30m").
func parseDuration(v string) (time.Duration, error) {
	rest := v
	var d time.Duration
	for rest != "" {
		m := durationPart.FindStringSubmatch(rest)
		if m == nil {
			return 0, fmt.Errorf("%q: want seconds, or a number with s, m, h or d", v)
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		d += time.Duration(f * float64(durationUnits[m[2]]))
		rest = rest[len(m[0]):]
	}
	if v == "" {
		return 0, fmt.Errorf("%q: want seconds, or a number with s, m, h or d", v)
	}
	return d, nil
}

// sizeUnits are the suffixes of --memory, powers of 1024.
var sizeUnits = map[string]uint64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

// parseSize reads a byte count with an optional K, M, G or T suffix
// (KiB, MB and the like are read the same way).
func parseSize(v string) (uint64, error) {
	s := strings.ToLower(v)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "b"), "i")
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], s[i:]
	}
	mult, ok := sizeUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f <= 0 {
		return 0, fmt.Errorf("%q: want a size such as 512M", v)
	}
	return uint64(f * float64(mult)), nil
}

// haltSpec is a --halt: when to stop (now or soon) and on what.
type haltSpec struct {
	when  haltWhen
	on    haltOn
	count int     // stop after this many jobs (0: use pct)
	pct   float64 // or this percentage of all jobs
}

type haltWhen int

const (
	haltNever haltWhen = iota
	haltSoon           // start no more jobs, let the running ones end
	haltNow            // stop the running jobs too
)

type haltOn int

const (
	haltOnFail haltOn = iota
	haltOnSuccess
	haltOnDone
)

var haltSpecRE = regexp.MustCompile(`^(now|soon),(fail|success|done)=([0-9]+(?:\.[0-9]*)?)(%?)$`)

func parseHalt(v string) (haltSpec, error) {
	switch v {
	case "never", "0":
		return haltSpec{}, nil
	case "1":
		return haltSpec{when: haltSoon, on: haltOnFail, count: 1}, nil
	case "2":
		return haltSpec{when: haltNow, on: haltOnFail, count: 1}, nil
	}
	m := haltSpecRE.FindStringSubmatch(v)
	if m == nil {
		return haltSpec{}, fmt.Errorf("--halt %q: want now|soon,fail|success|done=N or N%%, or never", v)
	}
	h := haltSpec{when: haltSoon, on: haltOnFail}
	if m[1] == "now" {
		h.when = haltNow
	}
	h.on = map[string]haltOn{"fail": haltOnFail, "success": haltOnSuccess, "done": haltOnDone}[m[2]]
	f, _ := strconv.ParseFloat(m[3], 64)
	switch {
	case m[4] == "%" && f > 0 && f <= 100:
		h.pct = f
	case m[4] == "" && f >= 1 && f == math.Trunc(f):
		h.count = int(f)
	default:
		return haltSpec{}, fmt.Errorf("--halt %q: want a count of 1 or more, or a percentage in (0, 100]", v)
	}
	return h, nil
}

// termStep is one step of a --termseq: a signal, then how long to wait
// for the job to end before the next step.
type termStep struct {
	sig  os.Signal
	wait time.Duration
}

// defaultTermseq is GNU parallel's: TERM,200,TERM,100,TERM,50,KILL,25.
var defaultTermseq = []termStep{
	{sigTERM, 200 * time.Millisecond},
	{sigTERM, 100 * time.Millisecond},
	{sigTERM, 50 * time.Millisecond},
	{sigKILL, 25 * time.Millisecond},
}

// sigTERM and sigKILL begin and end GNU's default termseq.
const (
	sigTERM = syscall.SIGTERM
	sigKILL = syscall.SIGKILL
)

// signalNamed reads a signal name ("TERM", "SIGTERM", "term") or number
// as [childproc.ParseSignal] does, refusing signal 0, which stops nothing.
func signalNamed(name string) (os.Signal, bool) {
	sig, err := childproc.ParseSignal(name)
	return sig, err == nil && sig != syscall.Signal(0)
}

func parseTermseq(v string) ([]termStep, error) {
	parts := strings.Split(v, ",")
	if len(parts)%2 != 0 {
		parts = append(parts, "0")
	}
	var seq []termStep
	for i := 0; i < len(parts); i += 2 {
		sig, ok := signalNamed(parts[i])
		ms, err := strconv.Atoi(parts[i+1])
		if !ok || err != nil || ms < 0 {
			return nil, fmt.Errorf("--termseq %q: want signals and waits in ms, such as TERM,200,KILL,25", v)
		}
		seq = append(seq, termStep{sig, time.Duration(ms) * time.Millisecond})
	}
	if seq[len(seq)-1].sig != sigKILL {
		seq = append(seq, termStep{sigKILL, 25 * time.Millisecond}) // nothing outlives a stop
	}
	return seq, nil
}

// stringValue is a pflag.Value over a string, so that two flags (-j and
// -P) can share one.
type stringValue struct{ p *string }

func newStringValue(p *string) *stringValue { return &stringValue{p} }
func (v *stringValue) String() string       { return *v.p }
func (v *stringValue) Set(s string) error   { *v.p = s; return nil }
func (v *stringValue) Type() string         { return "N" }
