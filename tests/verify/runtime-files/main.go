// Command clock needs what a runtime image must give it: CA certificates, the time zone
// database and a writable temporary directory. It exits 1 at start when one is missing.
package main

import (
	"crypto/x509"
	"log"
	"os"
	"time"
)

func main() {
	pool, err := x509.SystemCertPool()
	if err != nil || len(pool.Subjects()) == 0 { //nolint:staticcheck // Subjects is fine for counting
		log.Fatalf("no CA certificates: %v", err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		log.Fatalf("no time zone database: %v", err)
	}
	f, err := os.CreateTemp("", "clock-*")
	if err != nil {
		log.Fatalf("no writable temp dir: %v", err)
	}
	f.Close()
	log.Printf("ready: %d CA subjects, Paris is %s, temp file %s", len(pool.Subjects()), time.Now().In(paris).Format("MST"), f.Name())
	for {
		time.Sleep(time.Hour)
	}
}
