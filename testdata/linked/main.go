// Command linked is a program that links childproc, for the tests of
// childproc's own modes. It prints which code ran (main or its entry
// "probe") as which effective user, and whether the variable that names
// childproc's modes is in its environment and its children's. Its first
// argument may ask for more:
//
//	fork        try ForkEntry and Limits, and print their errors
//	limits-uid  run a shell as UID and GID 65534 with Limits, and the
//	            programs named by the other arguments the same way, and
//	            print what happened
//	limits-uid-sleep  start "sleep 100" as 65534 with Limits, print its
//	            pid, and wait to be killed
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

var probe = childproc.RegisterEntry("probe", func(ctx context.Context, ch *ipc.Channel, args []string) error {
	fmt.Printf("entry ran euid=%d\n", os.Geteuid())
	return nil
})

// modeVars are the variables childproc's modes are named by.
var modeVars = []string{"CHILDPROC_REEXEC"}

func main() {
	childproc.RunEntry()
	fmt.Printf("main ran euid=%d\n", os.Geteuid())
	for _, k := range modeVars {
		if v, ok := os.LookupEnv(k); ok {
			fmt.Printf("main sees %s=%q\n", k, v)
		}
	}
	const show = "env | grep ^CHILDPROC_REEXEC= || true"
	out, _ := exec.Command("sh", "-c", show).Output()
	printLines("os/exec child sees", out)
	r := childproc.SpawnSync("sh", []string{"-c", show}, nil)
	printLines("childproc child sees", r.Stdout)
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case "fork":
		_, err := childproc.ForkEntry(context.Background(), probe, nil, nil)
		fmt.Printf("ForkEntry: %v\n", err)
		r := childproc.SpawnSync("true", nil, &childproc.Options{Limits: &childproc.Limits{OpenFiles: 64}})
		fmt.Printf("Limits: %v\n", r.Err)
	case "limits-uid":
		nobody := 65534
		opts := &childproc.Options{UID: &nobody, GID: &nobody, Limits: &childproc.Limits{OpenFiles: 64}}
		r := childproc.SpawnSync("sh", []string{"-c", "echo $(id -u) $(id -g) $(ulimit -n)"}, opts)
		fmt.Printf("as nobody: %q %v\n", r.Stdout, r.Err)
		for _, p := range os.Args[2:] {
			r := childproc.SpawnSync(p, nil, opts)
			fmt.Printf("%s: %v\n", p, r.Err)
		}
	case "limits-uid-sleep":
		nobody := 65534
		c, err := childproc.Spawn(context.Background(), "sleep", []string{"100"}, &childproc.Options{
			UID: &nobody, GID: &nobody, Limits: &childproc.Limits{OpenFiles: 64},
			Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Inherit},
		})
		if err != nil {
			fmt.Printf("spawn: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("sleep pid %d\n", c.Pid())
		time.Sleep(time.Minute)
	}
}

func printLines(who string, out []byte) {
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			fmt.Printf("%s %s\n", who, l)
		}
	}
}
