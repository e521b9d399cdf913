// Command api serves /healthz; the test service for a Debian runtime.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "ok uid=%d\n", os.Getuid())
	})
	log.Printf("listening on :8080 as uid %d", os.Getuid())
	log.Fatal(http.ListenAndServe(":8080", nil))
}
