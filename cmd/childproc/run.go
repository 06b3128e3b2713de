package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/childproc/childproc"
)

func init() {
	commands["run"] = command{
		summary: "run long-running commands side by side (npm concurrently's interface)",
		main:    runMain,
		usage:   runUsage,
	}
}

// defaultKillTimeout is how long a stopped command has, after its signal,
// before SIGKILL (--kill-timeout's default).
const defaultKillTimeout = childproc.DefaultForceKillAfter

// runUsage writes childproc run's --help text.
func runUsage(w io.Writer) {
	fmt.Fprint(w, `usage: childproc run [options] 'command' ['command' ...]

Runs every command at once through the shell, each a child whose whole
process tree is stopped with it, and prefixes each line of their output
with the command's name. A command's stdout goes to childproc's stdout,
its stderr to stderr, a whole line at a time (a line without its newline
is written at the command's end, or in 1 MiB pieces); its stdin is the
null device. The lines saying how commands ended go to stdout. The flags
are npm concurrently's.

General:
  -n, --names a,b,...          names of the commands, in order (default: their index 0, 1, ...)
  -s, --success CONDITION      which commands must exit 0 for childproc to exit 0:
                                 all (default), first (the first to exit), last (the last to exit),
                                 command-NAME or command-INDEX (those commands),
                                 !command-NAME or !command-INDEX (all but those)
  -r, --raw                    print the output as it is: no prefixes, no exit lines
      --hide NAMES             comma-separated names or indexes of commands whose output is dropped
      --no-color               no colours (also when NO_COLOR is set, or the output is not a terminal)

Prefixes:
  -p, --prefix STYLE           index, pid, time, command, name, none, or a template such as
                               '{time} {name}' (no brackets then; default: name if given, else index)
  -c, --prefix-colors LIST     comma-separated colours per command: black red green yellow blue
                               magenta cyan white gray, with Bright after, bg before (bgBlue),
                               modifiers bold dim italic underline inverse hidden strikethrough
                               joined with dots (bold.red), #rrggbb, reset (none) or auto
                               (default: auto, a different colour for each command)
  -l, --prefix-length N        longest command prefix (-p command), shortened in the middle (default 10)
      --pad-prefix             pad the prefixes to the same width
  -t, --timestamp-format FMT   Unicode date pattern of {time} (default yyyy-MM-dd HH:mm:ss.SSS)

Stopping:
  -k, --kill-others            stop the other commands as soon as one exits
      --kill-others-on-fail    stop the other commands as soon as one exits non-zero
      --ks, --kill-signal SIG  signal that stops them (default SIGTERM)
      --kill-timeout D         SIGKILL what is left of a stopped command's tree D after its signal:
                               milliseconds, or a duration such as 2s (default 5s; 0: never)

Restarting:
      --restart-tries N        restart a command that exits non-zero up to N times (negative: forever)
      --restart-after D        wait before a restart: milliseconds, a duration such as 2s,
                               or exponential (1s, 2s, 4s, ...)

A command stopped by childproc (--kill-others, a signal) is never restarted.
SIGINT, SIGTERM or SIGHUP to childproc sends that signal to every command's
tree, SIGKILL after --kill-timeout (at once on a second signal), and then
childproc ends by the same signal. If childproc itself is killed, even by
SIGKILL, the commands and their trees are stopped anyway (Linux).

Exit status: 0 if the --success condition holds, 1 if not, 255 for bad usage.
`)
}

// runMain is childproc run: it runs the commands in args and returns the
// exit status.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseRun(args)
	if errors.Is(err, flag.ErrHelp) {
		runUsage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "childproc run: %v\n", err)
		return 255
	}
	return newRunner(cfg, stdout, stderr).run()
}

// A runConfig is childproc run's command line, checked.
type runConfig struct {
	commands         []string
	names            listFlag
	success          successCondition
	raw, noColor     bool
	hide             listFlag
	prefix           string
	prefixColors     listFlag
	prefixLength     int
	padPrefix        bool
	timestampFormat  timeFormat
	killOthers       bool
	killOthersOnFail bool
	killSignal       signalFlag
	killTimeout      millisFlag
	restartTries     int
	restartAfter     restartDelay
}

// parseRun parses childproc run's arguments. Flags may come before,
// between and after the commands, as in concurrently; after "--" every
// argument is a command.
func parseRun(args []string) (*runConfig, error) {
	cfg := &runConfig{
		success:         successCondition{kind: "all"},
		prefixColors:    listFlag{"auto"},
		prefixLength:    10,
		timestampFormat: defaultTimeFormat,
		killSignal:      signalFlag{defaultKillSignal},
		killTimeout:     millisFlag(defaultKillTimeout),
	}
	fs := cfg.flags()
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if ended := len(args) - len(rest); ended > 0 && args[ended-1] == "--" {
			cfg.commands = append(cfg.commands, rest...)
			break
		}
		cfg.commands, args = append(cfg.commands, rest[0]), rest[1:]
	}
	return cfg, cfg.check()
}

// flags returns the flag set that fills cfg.
func (cfg *runConfig) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	both := func(v flag.Value, short, long string) {
		fs.Var(v, short, "")
		fs.Var(v, long, "")
	}
	bothBool := func(p *bool, short, long string) {
		fs.BoolVar(p, short, false, "")
		fs.BoolVar(p, long, false, "")
	}
	both(&cfg.names, "n", "names")
	both(&cfg.success, "s", "success")
	bothBool(&cfg.raw, "r", "raw")
	fs.Var(&cfg.hide, "hide", "")
	fs.BoolVar(&cfg.noColor, "no-color", false, "")
	both((*stringFlag)(&cfg.prefix), "p", "prefix")
	both(&cfg.prefixColors, "c", "prefix-colors")
	both((*intFlag)(&cfg.prefixLength), "l", "prefix-length")
	fs.BoolVar(&cfg.padPrefix, "pad-prefix", false, "")
	both(&cfg.timestampFormat, "t", "timestamp-format")
	bothBool(&cfg.killOthers, "k", "kill-others")
	fs.BoolVar(&cfg.killOthersOnFail, "kill-others-on-fail", false, "")
	both(&cfg.killSignal, "ks", "kill-signal")
	fs.Var(&cfg.killTimeout, "kill-timeout", "")
	fs.IntVar(&cfg.restartTries, "restart-tries", 0, "")
	fs.Var(&cfg.restartAfter, "restart-after", "")
	return fs
}

// check reports what is wrong with cfg beyond single flag values.
func (cfg *runConfig) check() error {
	if len(cfg.commands) == 0 {
		return errors.New("no commands to run (see childproc run --help)")
	}
	for i, c := range cfg.commands {
		if strings.TrimSpace(c) == "" {
			return fmt.Errorf("command %d is empty", i)
		}
	}
	if cfg.prefixLength < 1 {
		return fmt.Errorf("invalid value %d for flag -prefix-length: must be at least 1", cfg.prefixLength)
	}
	for _, c := range cfg.prefixColors {
		if _, err := parseColor(c); err != nil {
			return err
		}
	}
	return cfg.checkSuccessTarget()
}

// checkSuccessTarget refuses a --success command-X or !command-X whose X
// names and numbers none of the commands.
func (cfg *runConfig) checkSuccessTarget() error {
	s := cfg.success
	if s.target == "" {
		return nil
	}
	for i := range cfg.commands {
		p := proc{index: i}
		if i < len(cfg.names) {
			p.name = cfg.names[i]
		}
		if p.is(s.target) {
			return nil
		}
	}
	return fmt.Errorf("--success %s: no command is named %q or has that index (0 to %d)", s.String(), s.target, len(cfg.commands)-1)
}

// A listFlag is a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = strings.Split(s, ",")
	return nil
}

// A stringFlag is a string flag that can be defined under two names.
type stringFlag string

func (s *stringFlag) String() string     { return string(*s) }
func (s *stringFlag) Set(v string) error { *s = stringFlag(v); return nil }

// An intFlag is an int flag that can be defined under two names.
type intFlag int

func (n *intFlag) String() string { return strconv.Itoa(int(*n)) }
func (n *intFlag) Set(v string) error {
	i, err := strconv.Atoi(v)
	if err != nil {
		return errors.New("not an integer")
	}
	*n = intFlag(i)
	return nil
}

// A millisFlag is a duration given as milliseconds (concurrently's form)
// or with a unit ("2s", "500ms").
type millisFlag time.Duration

func (d *millisFlag) String() string { return time.Duration(*d).String() }
func (d *millisFlag) Set(v string) error {
	if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
		*d = millisFlag(ms * float64(time.Millisecond))
		return nil
	}
	t, err := time.ParseDuration(v)
	if err != nil || t < 0 {
		return errors.New("want milliseconds or a duration such as 2s")
	}
	*d = millisFlag(t)
	return nil
}

// A restartDelay is --restart-after: a fixed delay, or exponential.
type restartDelay struct {
	fixed       millisFlag
	exponential bool
}

func (r *restartDelay) String() string {
	if r.exponential {
		return "exponential"
	}
	return r.fixed.String()
}

func (r *restartDelay) Set(v string) error {
	if v == "exponential" {
		r.exponential = true
		return nil
	}
	r.exponential = false
	if err := r.fixed.Set(v); err != nil {
		return errors.New("want milliseconds, a duration such as 2s, or exponential")
	}
	return nil
}

// before returns the delay before restart number n (0 for the first).
func (r restartDelay) before(n int) time.Duration {
	if r.exponential {
		return time.Second << min(n, 30)
	}
	return time.Duration(r.fixed)
}

// A signalFlag is a signal given by name, with or without "SIG".
type signalFlag struct{ sig os.Signal }

func (s *signalFlag) String() string { return signalName(s.sig) }
func (s *signalFlag) Set(v string) error {
	sig, ok := signalByName(v)
	if !ok {
		return errors.New("unknown signal")
	}
	s.sig = sig
	return nil
}

// A successCondition is --success: which exits make childproc succeed.
type successCondition struct {
	kind   string // "all", "first", "last", "command" or "!command"
	target string // the name or index after "command-"
}

func (s *successCondition) String() string {
	if s.target != "" {
		return s.kind + "-" + s.target
	}
	return s.kind
}

func (s *successCondition) Set(v string) error {
	switch v {
	case "all", "first", "last":
		*s = successCondition{kind: v}
		return nil
	}
	for _, kind := range []string{"command", "!command"} {
		if t, ok := strings.CutPrefix(v, kind+"-"); ok && t != "" {
			*s = successCondition{kind: kind, target: t}
			return nil
		}
	}
	return errors.New("want first, last, all, command-{name|index} or !command-{name|index}")
}

// met tells whether the final exits of the commands, in the order they
// came, satisfy the condition. Commands that never started (childproc was
// stopped first) are not in exits; with none at all the condition holds,
// as in concurrently.
func (s successCondition) met(exits []commandExit) bool {
	if len(exits) == 0 {
		return true
	}
	switch s.kind {
	case "first":
		return exits[0].status.success()
	case "last":
		return exits[len(exits)-1].status.success()
	case "command":
		found := false
		for _, e := range exits {
			if e.proc.is(s.target) {
				found = true
				if !e.status.success() {
					return false
				}
			}
		}
		return found
	}
	for _, e := range exits {
		if !e.status.success() && !(s.kind == "!command" && e.proc.is(s.target)) {
			return false
		}
	}
	return true
}

// A runner runs the commands of one childproc run.
type runner struct {
	cfg   *runConfig
	out   *sink
	procs []*proc
	env   []string         // the commands' environment; nil: childproc's
	exits chan commandExit // each command's final exit, or a start refused
}

// newRunner prepares cfg's commands, writing their output to stdout and
// stderr.
func newRunner(cfg *runConfig, stdout, stderr io.Writer) *runner {
	r := &runner{cfg: cfg, exits: make(chan commandExit, len(cfg.commands))}
	for i, c := range cfg.commands {
		p := &proc{r: r, index: i, command: c, stopped: make(chan struct{})}
		if i < len(cfg.names) {
			p.name = cfg.names[i]
		}
		r.procs = append(r.procs, p)
	}
	r.out = newSink(cfg, r.procs, stdout, stderr)
	r.env = commandEnv(r.out.stdout.colour)
	return r
}

// commandEnv returns the environment of the commands: when childproc's
// stdout takes colours, FORCE_COLOR says so (as concurrently does), so
// that programs that colour only a terminal colour their output, which
// reaches one through childproc; unless FORCE_COLOR is set already. nil
// means childproc's own environment.
func commandEnv(colour bool) []string {
	if _, set := os.LookupEnv("FORCE_COLOR"); set || !colour {
		return nil
	}
	return append(os.Environ(), "FORCE_COLOR="+colourLevel())
}

// colourLevel is the FORCE_COLOR level of the terminal, as TERM and
// COLORTERM tell it: 3 for 24-bit colour, 2 for 256 colours, else 1.
func colourLevel() string {
	switch {
	case os.Getenv("COLORTERM") == "truecolor" || os.Getenv("COLORTERM") == "24bit":
		return "3"
	case strings.Contains(os.Getenv("TERM"), "256"):
		return "2"
	}
	return "1"
}

// A commandExit is how a command ended for good (after its restarts).
type commandExit struct {
	proc    *proc
	status  exitStatus
	started bool // false: childproc was stopping before it could start
}

// run starts every command, supervises them until all have ended and
// returns childproc's exit status (or, after a stop signal, ends the
// process by that signal).
func (r *runner) run() int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	for _, p := range r.procs {
		go r.supervise(p)
	}
	var (
		exits        []commandExit
		caught       os.Signal
		othersKilled bool
		forceKill    <-chan time.Time
	)
	for ended := 0; ended < len(r.procs); {
		select {
		case e := <-r.exits:
			ended++
			if e.started {
				exits = append(exits, e)
			}
			if caught == nil && !othersKilled && r.killsOthers(e) {
				othersKilled = true
				forceKill = r.stopAll(r.cfg.killSignal.sig, "Sending %s to other processes..")
			}
		case sig := <-sigs:
			if caught != nil {
				r.killAll()
				continue
			}
			caught = sig
			forceKill = r.stopAll(sig, "")
		case <-forceKill:
			forceKill = nil
			r.killAll()
		}
	}
	if caught != nil {
		signal.Stop(sigs)
		return exitBySignal(caught)
	}
	if r.cfg.success.met(exits) {
		return 0
	}
	return 1
}

// killsOthers tells whether e's exit stops the other commands
// (--kill-others, --kill-others-on-fail).
func (r *runner) killsOthers(e commandExit) bool {
	return e.started && (r.cfg.killOthers || r.cfg.killOthersOnFail && !e.status.success())
}

// stopAll stops every command with sig (and cancels pending restarts). It
// logs message, if any, when a command was running, and returns the
// channel of the forced kill, nil when there is none.
func (r *runner) stopAll(sig os.Signal, message string) <-chan time.Time {
	running := 0
	for _, p := range r.procs {
		if p.stop() {
			running++
		}
	}
	if running == 0 {
		return nil
	}
	if message != "" {
		r.out.global(fmt.Sprintf(message, signalName(sig)))
	}
	for _, p := range r.procs {
		p.signal(sig)
	}
	if r.cfg.killTimeout <= 0 {
		return nil
	}
	return time.After(time.Duration(r.cfg.killTimeout))
}

// killAll sends SIGKILL to the tree of every command still running.
func (r *runner) killAll() {
	running := 0
	for _, p := range r.procs {
		if p.running() {
			running++
		}
	}
	if running > 0 {
		r.out.global(fmt.Sprintf("Sending SIGKILL to %d processes..", running))
	}
	for _, p := range r.procs {
		p.signal(killSignal)
	}
}

// supervise runs p, restarting it as --restart-tries and --restart-after
// say, and reports its final exit.
func (r *runner) supervise(p *proc) {
	exit := commandExit{proc: p}
	for restarts := 0; ; restarts++ {
		status, err := p.runOnce(restarts)
		if err != nil {
			r.exits <- exit // stopped before it could start again
			return
		}
		exit.status, exit.started = status, true
		if status.success() || status.startErr != nil || !r.mayRestart(restarts) || !p.await(r.cfg.restartAfter.before(restarts)) {
			r.exits <- exit
			return
		}
	}
}

// mayRestart tells whether a command that has been restarted n times may
// be restarted again.
func (r *runner) mayRestart(n int) bool {
	return r.cfg.restartTries < 0 || n < r.cfg.restartTries
}

// An exitStatus is how one run of a command ended.
type exitStatus struct {
	code     int    // the exit code, when signal is ""
	signal   string // the signal that ended it, such as "SIGTERM"
	startErr error  // the command could not start
}

func (s exitStatus) success() bool { return s.startErr == nil && s.signal == "" && s.code == 0 }

// String is the status as concurrently logs it: the code, or the signal.
func (s exitStatus) String() string {
	if s.signal != "" {
		return s.signal
	}
	return strconv.Itoa(s.code)
}

// A proc is one of the commands.
type proc struct {
	r       *runner
	index   int
	name    string
	command string

	mu       sync.Mutex
	child    *childproc.Child // the run in progress, or nil
	stopping bool             // stop was called: no new run
	stopped  chan struct{}    // closed by stop
}

// is tells whether p is the command named or numbered target (--success
// command-target).
func (p *proc) is(target string) bool {
	return p.name == target || strconv.Itoa(p.index) == target
}

// errStopped is returned by runOnce when the command was stopped before
// it could start.
var errStopped = errors.New("stopped")

// runOnce runs the command once, run number restarts+1, and waits for it
// to end, its output written out.
func (p *proc) runOnce(restarts int) (exitStatus, error) {
	stdout, stderr := p.r.out.writers(p)
	c, err := p.start(restarts, stdout, stderr)
	if errors.Is(err, errStopped) {
		return exitStatus{}, err
	}
	if err != nil {
		p.r.out.event(p, "Error occurred when executing command: "+p.command)
		p.r.out.event(p, err.Error())
		return exitStatus{code: 1, startErr: err}, nil
	}
	c.Wait()
	stdout.flush()
	stderr.flush()
	p.mu.Lock()
	p.child = nil
	p.mu.Unlock()
	status := exitStatus{code: c.ExitCode(), signal: c.SignalCode()}
	p.r.out.event(p, p.command+" exited with code "+status.String())
	return status, nil
}

// start starts the command through the shell, as a child whose tree is
// stopped with it, unless p has been stopped.
func (p *proc) start(restarts int, stdout, stderr io.Writer) (*childproc.Child, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return nil, errStopped
	}
	if restarts > 0 {
		p.r.out.event(p, p.command+" restarted")
	}
	c, err := childproc.Spawn(context.Background(), p.command, nil, p.r.childOptions(stdout, stderr))
	if err != nil {
		return nil, err
	}
	p.child = c
	p.r.out.started(p, c.Pid())
	return c, nil
}

// childOptions are the options of every command's child: through the
// shell, stdin the null device, env as commandEnv says, its tree stopped
// with it. KillSignal and
// ForceKillAfter are what the guardian uses to stop the tree if childproc
// dies (0, for --kill-timeout 0, is the default delay: the guardian always
// escalates); childproc's own stops send their signals themselves.
func (r *runner) childOptions(stdout, stderr io.Writer) *childproc.Options {
	return &childproc.Options{
		Shell:          childproc.DefaultShell,
		Env:            r.env,
		Stdio:          []any{childproc.Ignore, stdout, stderr},
		KillTree:       true,
		KillSignal:     r.cfg.killSignal.sig,
		ForceKillAfter: time.Duration(r.cfg.killTimeout),
	}
}

// stop makes p start no more runs and ends a wait for a restart. It
// reports whether a run is in progress.
func (p *proc) stop() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopping {
		p.stopping = true
		close(p.stopped)
	}
	return p.child != nil
}

// running reports whether a run of p is in progress.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.child != nil
}

// signal sends sig to the tree of the run in progress, if any.
func (p *proc) signal(sig os.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child != nil {
		p.child.KillTree(sig)
	}
}

// await waits d before a restart and reports whether p may restart: false
// when it was stopped meanwhile.
func (p *proc) await(d time.Duration) bool {
	select {
	case <-p.stopped:
		return false
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stopped:
		return false
	}
}
