// Command app relies on its working directory: its image has no WORKDIR, starts it as ./app
// and copies settings.txt beside it. It exits 1 at start when it cannot read that file.
package main

import (
	"log"
	"os"
	"time"
)

func main() {
	settings, err := os.ReadFile("settings.txt")
	if err != nil {
		log.Fatalf("no settings in the working directory: %v", err)
	}
	log.Printf("ready: %s", settings)
	for {
		time.Sleep(time.Hour)
	}
}
