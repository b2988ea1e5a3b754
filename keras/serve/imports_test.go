package serve

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the promise of the package doc: a Go program mounting
// the handler pulls in neither the command nor the summary printer.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/kerascope/kerascope/cmd") || strings.HasPrefix(p, "github.com/kerascope/kerascope/summary") {
			t.Errorf("keras/serve depends on %s", p)
		}
	}
}
