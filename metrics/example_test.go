package metrics_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/metrics"
)

// A node's metrics as a Prometheus scrape of Handler sees them.
func ExampleHandler() {
	var me ledger.PubKey // the node's ledger key
	m := metrics.New(me, nil)
	m.Queue(2) // two assignments waiting for a worker
	rec := httptest.NewRecorder()
	metrics.Handler(m.Registry).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "genquorum_node_queue_depth ") {
			fmt.Print(line)
		}
	}
	// Output: genquorum_node_queue_depth 2
}
