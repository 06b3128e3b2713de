// Command ownids starts a shell with its own uid and gid set through
// Options.UID and Options.GID, as a parent that is not root may, and
// prints the ids the shell ran with ("uid gid"), or the error.
package main

import (
	"fmt"
	"os"

	"github.com/childproc/childproc"
)

func main() {
	uid, gid := os.Getuid(), os.Getgid()
	r := childproc.SpawnSync("sh", []string{"-c", "echo $(id -u) $(id -g)"}, &childproc.Options{UID: &uid, GID: &gid})
	if r.Err != nil || r.Status != 0 {
		fmt.Println("error:", r.Err, r.Status)
		os.Exit(1)
	}
	fmt.Printf("%s", r.Stdout)
}
