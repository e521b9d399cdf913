// Command gopath is built in GOPATH mode (GO111MODULE=off, no go.mod): it has no modules to
// download, so a rewrite must add no module steps. It stays up.
package main

import (
	"log"
	"time"
)

func main() {
	log.Print("ready")
	for {
		time.Sleep(time.Hour)
	}
}
