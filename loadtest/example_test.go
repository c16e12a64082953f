package loadtest_test

import (
	"fmt"

	"github.com/nearby/nearby/loadtest"
)

func ExampleParseThresholds() {
	ts, err := loadtest.ParseThresholds("p99<20ms, search_page:p95<=10ms, errors<0.1%")
	if err != nil {
		panic(err)
	}
	for _, t := range ts {
		fmt.Printf("%-20s request=%q metric=%s latency=%v errors=%g\n", t, t.Request, t.Metric, t.Latency, t.ErrorRate)
	}
	// Output:
	// p99<20ms             request="" metric=p99 latency=20ms errors=0
	// search_page:p95<=10ms request="search_page" metric=p95 latency=10ms errors=0
	// errors<0.1%          request="" metric=errors latency=0s errors=0.001
}

func ExampleCheckTarget() {
	for _, target := range []string{"http://127.0.0.1:8080", "http://[::1]:8080", "http://10.0.0.1:8080"} {
		_, err := loadtest.CheckTarget(target, false)
		fmt.Println(target, err == nil)
	}
	// Output:
	// http://127.0.0.1:8080 true
	// http://[::1]:8080 true
	// http://10.0.0.1:8080 false
}
