// Command notes writes its data directory at start: as the non-root user it needs /data to be
// its own. It exits 1 when it cannot write there.
package main

import (
	"log"
	"os"
	"time"
)

func main() {
	if err := os.WriteFile("/data/started.txt", []byte(time.Now().String()), 0o600); err != nil {
		log.Fatalf("cannot write the data directory: %v", err)
	}
	log.Print("ready")
	for {
		time.Sleep(time.Hour)
	}
}
