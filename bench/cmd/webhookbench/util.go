package main

import (
	"runtime"
	"slices"
	"time"
)

func sortDurations(d []time.Duration) { slices.Sort(d) }

func numCPU() int { return runtime.NumCPU() }
