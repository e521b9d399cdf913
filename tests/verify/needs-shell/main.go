// Command needsshell runs a shell command before it serves: the hook's program is held in a
// variable, so nothing harden reads in its source or its Dockerfile says so, and only running the
// hardened image (which has no shell) shows it.
package main

import (
	"log"
	"net/http"
	"os/exec"
)

// hook is the start-up hook's command.
var hook = []string{"sh", "-c", "true"}

func main() {
	if err := exec.Command(hook[0], hook[1:]...).Run(); err != nil {
		log.Fatalf("the start-up hook needs a shell: %v", err)
	}
	log.Fatal(http.ListenAndServe(":8080", nil))
}
