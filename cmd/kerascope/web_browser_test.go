//go:build browser

package main

// The web app in a real browser: headless Chromium (Debian's chromium,
// which scripts/install-deps installs) driven by chromedp, against the
// site `make web` built into web/dist. `make test-web` runs it:
//
//	go test -tags browser -run TestBrowser ./cmd/kerascope
//
// What the page shows is compared with what this package's run prints for
// the same file and flags (the command line is held to Keras's captures by
// the other tests), and where a Keras capture of the same thing exists,
// with that too. Without chromium the test skips, except under CI=true,
// where a missing browser is a failure.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
	"github.com/kerascope/kerascope/summary/graph"
	"github.com/kerascope/kerascope/web"
)

// screenshots, when set, is the directory the test writes the views'
// screenshots to (make web-screenshots: docs/).
var screenshots = flag.String("screenshots", "", "write PNG screenshots of the main views into `DIR`")

// webExamples are the examples the page offers: the article's four models.
var webExamples = articleModels

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed, and CI=true: scripts/install-deps should have installed it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium): skipping the browser tests")
	return ""
}

// A page is the app open in one browser tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

// do runs actions with a bound: a frozen tab fails the test instead of
// hanging it.
func (p *page) do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// evalAs evaluates a JavaScript expression in the page.
func evalAs[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("browser: %s: %v", js, err)
	}
	return v
}

func (p *page) eval(js string) { evalAs[any](p, js) }

// wait polls a JavaScript condition until it holds.
func (p *page) wait(cond string, timeout time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.t.Fatalf("browser: waiting for %s: %v", cond, err)
	}
}

func (p *page) idle() string { return `!document.body.dataset.busy` }

// show clicks a view's tab and waits until the view has been drawn.
func (p *page) show(view string) {
	p.t.Helper()
	p.eval(`delete document.body.dataset.shown`)
	p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#tabs button[data-view="`+view+`"]`)))
	p.wait(`document.body.dataset.shown === "`+view+`" && `+p.idle(), 60*time.Second)
}

// opening runs open, which opens a file, and waits until the page has
// finished with it.
func (p *page) opening(open chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	n := evalAs[string](p, `document.body.dataset.opened || "0"`)
	p.do(10*time.Second, open)
	p.wait(`(document.body.dataset.opened || "0") !== "`+n+`" && `+p.idle(), 60*time.Second)
}

func (p *page) upload(path string) {
	p.t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		p.t.Fatal(err)
	}
	p.opening(chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{abs}))
}

func (p *page) example(name string) {
	p.t.Helper()
	p.show("open")
	p.opening(chromedp.Click(chromedp.CSS(`#examples button[data-example="` + name + `"]`)))
}

func (p *page) text(sel string) string {
	p.t.Helper()
	return evalAs[string](p, `document.querySelector(`+strconv.Quote(sel)+`).textContent`)
}

// errorLine is the page's error line, "" when none is shown.
func (p *page) errorLine() string {
	p.t.Helper()
	return evalAs[string](p, `document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`)
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	if *screenshots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, "web_"+name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// cli runs the command line in dir (so that file names in messages are the
// page's: the bare name) and returns stdout, the error line and the exit code.
func cli(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	line := ""
	for _, l := range strings.Split(errb.String(), "\n") {
		if strings.HasPrefix(l, "kerascope: error:") {
			line = l
			break
		}
	}
	return out.String(), line, code
}

func TestBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	site, built := web.Site()
	if !built {
		t.Fatal("web/dist holds no bundle: run 'make web' first (make test-web does)")
	}
	srv := httptest.NewServer(web.Handler(site))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The browser starts with the first action, and lives as long as
	// that action's context: start it on ctx, not on a step's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chrome, err)
	}
	p := &page{t: t, ctx: ctx}
	p.do(60*time.Second, chromedp.EmulateViewport(1280, 860))

	start := time.Now()
	p.do(60*time.Second, chromedp.Navigate(srv.URL+"/"))
	p.wait(`document.body.dataset.loadMs !== undefined || !document.getElementById("error").hidden`, 60*time.Second)
	if e := p.errorLine(); e != "" {
		t.Fatalf("the page did not start: %s", e)
	}
	loadMs := evalAs[string](p, `document.body.dataset.loadMs`)
	t.Logf("page and bundle loaded: %s ms in the worker (fetch, inflate, compile, start), %v from navigation", loadMs, time.Since(start).Round(time.Millisecond))
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	models := filepath.Join(root, "testdata", "models")

	t.Run("Summary", func(t *testing.T) {
		p := &page{t: t, ctx: ctx}
		for _, name := range webExamples {
			p.example(name)
			dir := t.TempDir()
			data, err := os.ReadFile(filepath.Join(models, name, "k3.keras"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".keras"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			capture, err := os.ReadFile(filepath.Join(models, name, "k3.keras.k3.summary.txt"))
			if err != nil {
				t.Fatal(err)
			}
			p.show("summary")
			for _, c := range []struct {
				click string // the control to click before, "" for none
				args  []string
			}{
				{"", nil},
				{`input[name=style][value=keras2]`, []string{"--style", "keras2"}},
				{`#show-trainable`, []string{"--style", "keras2", "--show-trainable"}},
				{`#expand-nested`, []string{"--style", "keras2", "--show-trainable", "--expand-nested"}},
				{`input[name=style][value=keras3]`, []string{"--style", "keras3", "--show-trainable", "--expand-nested"}},
				{`#show-trainable`, []string{"--style", "keras3", "--expand-nested"}},
				{`#expand-nested`, []string{"--style", "keras3"}},
				{`input[name=style][value=""]`, nil},
			} {
				if c.click != "" {
					p.eval(`delete document.body.dataset.shown`)
					p.do(10*time.Second, chromedp.Click(chromedp.CSS(c.click)))
					p.wait(`document.body.dataset.shown === "summary" && `+p.idle(), 60*time.Second)
				}
				got := p.text("#summary")
				want, line, code := cli(t, dir, append(append([]string{"summary"}, c.args...), name+".keras")...)
				if code != 0 {
					t.Fatalf("%s: the command line failed: %s", name, line)
				}
				if got != want {
					t.Errorf("%s summary %v: the page shows\n%s\nthe command line prints\n%s", name, c.args, got, want)
				}
				if c.args == nil && got != string(capture) {
					t.Errorf("%s: the page's summary is not Keras's:\n%s\nKeras:\n%s", name, got, capture)
				}
			}
			if name == "rnn_2units" {
				p.screenshot("summary")
			}
			// tf.keras's file, dropped on the page, in tf.keras's style.
			p.upload(filepath.Join(models, name, "tfk.h5"))
			p.show("summary")
			tfk, err := os.ReadFile(filepath.Join(models, name, "tfk.h5.tfk.summary.txt"))
			if err != nil {
				t.Fatal(err)
			}
			want, _, _ := cli(t, filepath.Join(models, name), "summary", "tfk.h5")
			if got := p.text("#summary"); got != want || got != string(tfk) {
				t.Errorf("%s/tfk.h5: the page shows\n%s\nthe command line prints\n%s\ntf.keras printed\n%s", name, got, want, tfk)
			}
		}
	})

	t.Run("Units", func(t *testing.T) {
		p := &page{t: t, ctx: ctx}
		for _, name := range webExamples {
			p.example(name) // an example opens on its unit view
			f, err := keras.Open(filepath.Join(models, name, "k3.keras"))
			if err != nil {
				t.Fatal(err)
			}
			for _, unroll := range []bool{false, true} {
				if unroll {
					p.eval(`delete document.body.dataset.shown`)
					p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#unroll`)))
					p.wait(`document.body.dataset.shown === "units" && `+p.idle(), 60*time.Second)
				}
				g, err := graph.Units(f.Model, graph.UnitOptions{Unroll: unroll})
				if err != nil {
					t.Fatal(err)
				}
				counts := evalAs[map[string]int](p, `(() => { const c = {}; for (const e of document.querySelectorAll("#units .edge")) c[e.dataset.kind] = (c[e.dataset.kind] || 0) + 1; return c; })()`)
				for kind, k := range map[string]graph.EdgeKind{"weight": graph.Weight, "recurrent": graph.Recurrent, "bias": graph.Bias, "flow": graph.Flow, "connection": graph.Connection} {
					if want := g.Count("", k); counts[kind] != want {
						t.Errorf("%s (unroll %v): %d %s edges on the page, the graph package has %d", name, unroll, counts[kind], kind, want)
					}
				}
				if !unroll {
					// Against Keras: one edge per parameter, Keras's
					// "Total params" of the captured summary.
					capture, err := os.ReadFile(filepath.Join(models, name, "k3.keras.k3.summary.txt"))
					if err != nil {
						t.Fatal(err)
					}
					// Keras 3's "Total params" of a compiled model counts
					// the optimizer's too: the model's own are the
					// trainable and non-trainable ones.
					total := 0
					for _, m := range regexp.MustCompile(`(?m)^ (Trainable|Non-trainable) params: ([0-9,]+)`).FindAllSubmatch(capture, -1) {
						n, _ := strconv.Atoi(strings.ReplaceAll(string(m[2]), ",", ""))
						total += n
					}
					if got := counts["weight"] + counts["recurrent"] + counts["bias"]; got != total || total == 0 {
						t.Errorf("%s: %d weight, recurrent and bias edges on the page; Keras says %d parameters", name, got, total)
					}
					if name == "rnn_2units" {
						p.screenshot("units")
					}
				}
			}
			p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#unroll`)))
			f.Close()
		}
	})

	t.Run("Graph", func(t *testing.T) {
		p := &page{t: t, ctx: ctx}
		p.example("rnn_2features")
		p.show("graph")
		nodes := evalAs[int](p, `document.querySelectorAll("#graph .node").length`)
		if nodes == 0 {
			t.Fatal("no layer boxes in the graph view")
		}
		p.eval(`delete document.body.dataset.layer`)
		p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#graph .node[data-layer="simple_rnn"] rect`)))
		p.wait(`document.body.dataset.layer === "simple_rnn"`, 30*time.Second)
		panel := p.text("#layer")
		dir := filepath.Join(models, "rnn_2features")
		out, _, _ := cli(t, dir, "explain", "k3.keras")
		formula := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "simple_rnn (SimpleRNN): ") {
				formula = strings.TrimPrefix(l, "simple_rnn (SimpleRNN): ")
			}
		}
		if formula == "" || !strings.Contains(panel, formula) {
			t.Errorf("the layer panel lacks explain's arithmetic %q:\n%s", formula, panel)
		}
		for _, want := range []string{"recurrent_kernel", `"units": 2`, "Weights", "Config"} {
			if !strings.Contains(panel, want) {
				t.Errorf("the layer panel lacks %q:\n%s", want, panel)
			}
		}
		p.screenshot("graph")
	})

	t.Run("Predict", func(t *testing.T) {
		p := &page{t: t, ctx: ctx}
		for _, name := range webExamples {
			p.example(name)
			p.show("predict")
			p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#example-input`)))
			p.wait(`document.getElementById("status-text").textContent.startsWith("inputs:")`, 10*time.Second)
			p.eval(`delete document.body.dataset.predicted`)
			p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#predict-run`)))
			p.wait(`document.body.dataset.predicted === "1" || !document.getElementById("error").hidden`, 60*time.Second)
			if e := p.errorLine(); e != "" {
				t.Fatalf("%s: %s", name, e)
			}
			var outputs map[string]json.RawMessage
			if err := json.Unmarshal([]byte(p.text("#predict")), &outputs); err != nil || len(outputs) != 1 {
				t.Fatalf("%s: the page's prediction is not one output as JSON (%v): %s", name, err, p.text("#predict"))
			}
			for _, raw := range outputs {
				got, err := tensor.ReadJSON(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				wf, err := os.Open(filepath.Join(models, name, "k3.keras.output.npy"))
				if err != nil {
					t.Fatal(err)
				}
				want, err := tensor.ReadNPY(wf)
				wf.Close()
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
					t.Fatalf("%s: shape %v, Keras %v", name, got.Shape, want.Shape)
				}
				for i := range want.Data {
					g, w := float64(got.Data[i]), float64(want.Data[i])
					if math.Abs(g-w) > 1e-5+1e-4*math.Abs(w) {
						t.Errorf("%s: output[%d] = %g, Keras %g", name, i, g, w)
					}
				}
			}
			if name == "rnn_2features" {
				p.screenshot("predict")
			}
		}
		// What the command line refuses, the page refuses with its line.
		dir := t.TempDir()
		data, err := os.ReadFile(filepath.Join(models, "rnn_1unit", "k3.keras"))
		if err != nil {
			t.Fatal(err)
		}
		bad := `[[1, 2], [3]]`
		os.WriteFile(filepath.Join(dir, "rnn_1unit.keras"), data, 0o644)
		os.WriteFile(filepath.Join(dir, "pasted-input.json"), []byte(bad), 0o644)
		p.example("rnn_1unit")
		p.show("predict")
		p.eval(`document.getElementById("input-json").value = ` + strconv.Quote(bad))
		p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#predict-run`)))
		p.wait(`!document.getElementById("error").hidden && `+p.idle(), 60*time.Second)
		_, want, code := cli(t, dir, "predict", "--format", "json", "--input", "pasted-input.json", "--", "rnn_1unit.keras")
		if code == 0 || want == "" {
			t.Fatalf("the command line accepts %s", bad)
		}
		if got := p.errorLine(); got != want {
			t.Errorf("the page says\n%s\nthe command line says\n%s", got, want)
		}
		p.eval(`document.getElementById("input-json").value = ""`)
	})

	t.Run("Check", func(t *testing.T) {
		p := &page{t: t, ctx: ctx}
		dir := filepath.Join(root, "testdata", "bad")
		p.upload(filepath.Join(dir, "bad_extra_dataset.h5"))
		p.show("check")
		want, _, code := cli(t, dir, "check", "bad_extra_dataset.h5")
		if code != 1 {
			t.Fatalf("check passes bad_extra_dataset.h5")
		}
		if got := p.text("#check"); got != want {
			t.Errorf("the page's check report\n%s\nthe command line's\n%s", got, want)
		}
		layers := evalAs[[]string](p, `[...document.querySelectorAll("#problems a")].map(a => a.dataset.layer)`)
		if len(layers) != 1 || layers[0] != "einsum_dense" {
			t.Fatalf("problems link to layers %v, want [einsum_dense]", layers)
		}
		p.screenshot("check")
		p.eval(`delete document.body.dataset.layer`)
		p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#problems a`)))
		p.wait(`document.body.dataset.layer === "einsum_dense" && document.body.dataset.view === "graph"`, 30*time.Second)
	})

	t.Run("Largest", func(t *testing.T) {
		p := &page{t: t, ctx: ctx}
		for _, name := range []string{"big_1000", "bench_lstm"} {
			path := filepath.Join(models, name, "k3.keras")
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			p.upload(path)
			if e := p.errorLine(); e != "" {
				t.Fatalf("%s: %s", name, e)
			}
			ms := evalAs[string](p, `String(document.body.dataset.lastMs)`)
			t0 := time.Now()
			want, _, _ := cli(t, filepath.Dir(path), "summary", "k3.keras")
			native := time.Since(t0)
			if got := p.text("#summary"); got != want {
				t.Errorf("%s: the page's summary differs from the command line's", name)
			}
			// The first run compiles the code it needs (V8 tiers up) and
			// grows the heap; the same summary again is the warm time.
			var again []string
			for range 3 {
				p.eval(`window.kerascopePage.state.cache.clear()`)
				p.show("summary")
				again = append(again, evalAs[string](p, `String(document.body.dataset.lastMs)`))
			}
			p.show("graph")
			graphMs := evalAs[string](p, `document.body.dataset.lastMs`)
			if n := evalAs[int](p, `document.querySelectorAll("#graph .node").length`); n == 0 {
				t.Errorf("%s: no graph", name)
			}
			// Measurements for docs/web.md, not assertions.
			t.Logf("%s/k3.keras (%d bytes, %d lines of summary): summary %s ms in the worker (open, decode, print), again %s ms; natively in this process %.1f ms; layer graph SVG %s ms",
				name, fi.Size(), strings.Count(want, "\n"), ms, strings.Join(again, ", "), float64(native.Microseconds())/1000, graphMs)
		}
	})

	t.Run("Hostile", func(t *testing.T) {
		p := &page{t: t, ctx: ctx}
		ms := hostileModels(t)
		errors := 0
		for _, f := range ms {
			base := filepath.Base(f)
			p.upload(f)
			p.show("check")
			// One error line, as the command line's; or, where check
			// gets as far as a report, the same report.
			out, want, _ := cli(t, filepath.Dir(f), "check", base)
			got := p.errorLine()
			if got != want {
				t.Errorf("%s: the page says %q, the command line %q", base, got, want)
			}
			if want != "" {
				errors++
				if strings.Contains(got, "\n") {
					t.Errorf("%s: more than one line: %q", base, got)
				}
			} else if p.text("#check") != out {
				t.Errorf("%s: the page's check report differs from the command line's", base)
			}
			// The page still answers.
			if evalAs[int](p, `1 + 1`) != 2 {
				t.Fatal("the page does not answer")
			}
		}
		if errors == 0 {
			t.Error("no hostile file gave an error line")
		}
		// And after all of them, a good model still opens.
		p.example("rnn_1unit")
		p.show("summary")
		if !strings.Contains(p.text("#summary"), `Model: "rnn_1unit"`) {
			t.Error("after the hostile files the page no longer works")
		}
	})
}
