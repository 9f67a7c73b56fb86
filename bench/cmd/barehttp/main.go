// Command barehttp is the baseline of the users API load benchmark: a bare
// net/http server that answers every request with the same fixed JSON body,
// so the benchmark can compare Steward's get-by-id with what plain net/http
// does on the same machine for a response of the same size.
//
//	barehttp --addr 127.0.0.1:3900 --body user.json
//	barehttp --addr 127.0.0.1:3900 --size 420
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3900", "listen address")
	bodyFile := flag.String("body", "", "file whose bytes every response carries")
	size := flag.Int("size", 0, "without --body: a JSON body of exactly this many bytes")
	flag.Parse()
	body, err := loadBody(*bodyFile, *size)
	if err != nil {
		log.Fatal(err)
	}
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		w.Write(body)
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("barehttp listening on http://%s with a %d-byte body\n", *addr, len(body))
	log.Fatal(srv.ListenAndServe())
}

// loadBody reads the body file, or builds a JSON string value padded to
// size bytes.
func loadBody(file string, size int) ([]byte, error) {
	if file != "" {
		return os.ReadFile(file)
	}
	if size < 2 {
		return nil, fmt.Errorf("give --body FILE or --size N (N >= 2)")
	}
	return append(append([]byte{'"'}, bytes.Repeat([]byte{'x'}, size-2)...), '"'), nil
}
