package graph

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

// TestRenderWithOtherUsersCache runs this test binary as another user
// (nobody) with TMPDIR holding a go-graphviz cache that root made, as on a
// machine where another user ran kerascope first: rendering must work,
// where go-graphviz's init used to panic on the files it could not read.
func TestRenderWithOtherUsersCache(t *testing.T) {
	if os.Getenv("KERASCOPE_RENDER_HELPER") == "1" {
		if _, err := Render(context.Background(), "digraph { a -> b }", "svg"); err != nil {
			t.Fatal(err)
		}
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root, to run as another user")
	}
	tmp, err := os.MkdirTemp("", "gvcache")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, os.ModeSticky|0o777) // as /tmp is
	// A compilation cache where wazero keeps it (wazero-VERSION-ARCH-OS,
	// VERSION from the build information, else "dev"), root's and private.
	versions := []string{"dev"}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				versions = append(versions, d.Version)
			}
		}
	}
	for _, v := range versions {
		d := filepath.Join(tmp, "go-graphviz", "wazero-"+v+"-"+runtime.GOARCH+"-"+runtime.GOOS)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The test binary, where nobody can run it.
	bin := filepath.Join(tmp, "graph.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	cmd := exec.Command(bin, "-test.run=^TestRenderWithOtherUsersCache$")
	cmd.Dir = tmp
	cmd.Env = []string{"KERASCOPE_RENDER_HELPER=1", "TMPDIR=" + tmp, "HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "panic") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	// nobody's cache went to a directory of its own.
	if fi, err := os.Stat(filepath.Join(tmp, "kerascope-65534")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Errorf("no private cache directory for nobody: %v", err)
	}
}
