// Command needsshell runs a shell command before it serves: nothing in its source or its
// Dockerfile says so, and only running the hardened image (which has no shell) shows it.
package main

import (
	"log"
	"net/http"
	"os/exec"
)

func main() {
	if err := exec.Command("sh", "-c", "true").Run(); err != nil {
		log.Fatalf("the start-up hook needs a shell: %v", err)
	}
	log.Fatal(http.ListenAndServe(":8080", nil))
}
