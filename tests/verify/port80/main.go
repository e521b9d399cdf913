// Command web binds port 80, which a non-root user may not bind on every runtime: a rewrite
// must leave its user as it is. It exits 1 when it cannot listen.
package main

import (
	"log"
	"net/http"
)

func main() {
	log.Print("listening on :80")
	log.Fatal(http.ListenAndServe(":80", http.NotFoundHandler()))
}
