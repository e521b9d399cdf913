// Command cgo calls into C at start and then stays up; the test service for a cgo build.
package main

/*
#include <stdlib.h>
static int answer(void) { return 42; }
*/
import "C"

import (
	"log"
	"time"
)

func main() {
	log.Printf("C says %d", int(C.answer()))
	for {
		time.Sleep(time.Hour)
	}
}
