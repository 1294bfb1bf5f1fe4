package agent

import (
	"reflect"
	"testing"
)

func TestDiscoveredBatchesNewPeersOnce(t *testing.T) {
	d := &discovered{joined: make(map[string]bool)}
	if !d.add("10.0.0.1:7946") || !d.add("10.0.0.2:7946") {
		t.Fatal("new peers refused")
	}
	if got := d.take(); !reflect.DeepEqual(got, []string{"10.0.0.1:7946", "10.0.0.2:7946"}) {
		t.Fatalf("batch %v", got)
	}
	// A peer handed to a join is not queued again; a new one is.
	if d.add("10.0.0.1:7946") {
		t.Error("joined peer queued again")
	}
	d.add("10.0.0.3:7946")
	if got := d.take(); !reflect.DeepEqual(got, []string{"10.0.0.3:7946"}) {
		t.Fatalf("second batch %v", got)
	}
	if got := d.take(); got != nil {
		t.Errorf("empty batch %v", got)
	}
}
