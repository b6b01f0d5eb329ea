// minhash_peer: the Go peer of tests/bench/dedup_bench.py, built on Debian's
// golang-github-ekzhu-minhash-lsh-dev (github.com/ekzhu/minhash-lsh).
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o minhash_peer .
//	minhash_peer STORED_FILE QUERY_FILE
//
// Each file holds one text per line. The program hashes every text's words
// (the way the library is meant to be used: one Push per token), prints the
// signatures per second, indexes the stored signatures in an LSH with
// threshold 0.5, and prints the query latency p50 and p99 over the query
// texts, plus how many queries found a candidate. 64 hash functions, as
// tipline_core's signatures have.
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	minhashlsh "github.com/ekzhu/minhash-lsh"
)

const numHash = 64
const seed = 42

func readLines(path string) []string {
	file, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer file.Close()
	var lines []string
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
	}
	return lines
}

func signature(text string) []uint64 {
	m := minhashlsh.NewMinhash(seed, numHash)
	for _, word := range strings.Fields(text) {
		m.Push([]byte(word))
	}
	return m.Signature()
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: minhash_peer STORED_FILE QUERY_FILE")
		os.Exit(2)
	}
	stored := readLines(os.Args[1])
	queries := readLines(os.Args[2])

	start := time.Now()
	signatures := make([][]uint64, len(stored))
	for i, text := range stored {
		signatures[i] = signature(text)
	}
	elapsed := time.Since(start)
	fmt.Printf("go_signatures_per_s %.0f\n", float64(len(stored))/elapsed.Seconds())

	lsh := minhashlsh.NewMinhashLSH64(numHash, 0.5)
	for i, sig := range signatures {
		lsh.Add(i, sig)
	}
	lsh.Index()

	samples := make([]float64, 0, len(queries))
	found := 0
	for _, text := range queries {
		t0 := time.Now()
		result := lsh.Query(signature(text))
		samples = append(samples, float64(time.Since(t0).Nanoseconds())/1000)
		if len(result) > 0 {
			found++
		}
	}
	sort.Float64s(samples)
	fmt.Printf("go_query_p50_us %.1f\n", samples[len(samples)/2])
	fmt.Printf("go_query_p99_us %.1f\n", samples[len(samples)*99/100])
	fmt.Printf("go_found %d %d\n", found, len(queries))
}
