package serve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kerascope/kerascope/keras"
)

// A Model is one model to serve under a name: either one file (served as
// version 1) or, as TF Serving lays models out, a base directory holding
// numbered version directories, each with one .keras or .h5 file. Of a
// base directory, the highest version is served, as TF Serving's default
// version policy (latest 1) does; a new higher version is loaded while
// the old one keeps serving, then replaces it, and the old one is retired
// once its requests have finished.
type Model struct {
	Name     string
	Path     string // a .keras or .h5 file
	BasePath string // or a directory of version directories
}

// Version states, as TF Serving's ModelVersionStatus names them.
const (
	stateLoading     = "LOADING"
	stateAvailable   = "AVAILABLE"
	stateUnloading   = "UNLOADING"
	stateEnd         = "END"
	maxStatusHistory = 16 // retired or failed versions kept in the status
)

// A version is one loaded model file.
type version struct {
	num     int64
	path    string
	net     *keras.Net
	inputs  []keras.Port
	outputs []string // unique output names, in Outputs order
	batch   *batcher // nil without micro-batching
	// active counts the requests holding the version; retire waits for it.
	active sync.WaitGroup
}

// A statusEntry is a version's state for the model status API.
type statusEntry struct {
	num   int64
	state string
	err   string // a failed load's error
}

// A served model: its current version and its status history.
type served struct {
	cfg Model

	mu      sync.RWMutex
	current *version
	status  []statusEntry // newest last
	// failed remembers a version directory's file that did not load, by
	// size and time, so that polling retries it only once it changes.
	failed map[string]string
}

// acquire returns the version a request asks for (num 0: the current
// one), holding it until release; nil if the model has no such version.
func (m *served) acquire(num int64) *version {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v := m.current
	if v == nil || (num != 0 && v.num != num) {
		return nil
	}
	v.active.Add(1)
	return v
}

func (v *version) release() { v.active.Done() }

func (m *served) setStatus(num int64, state, err string) {
	for i := range m.status {
		if m.status[i].num == num {
			m.status[i] = statusEntry{num, state, err}
			return
		}
	}
	m.status = append(m.status, statusEntry{num, state, err})
	if len(m.status) > maxStatusHistory {
		m.status = slices.Delete(m.status, 0, len(m.status)-maxStatusHistory)
	}
}

func (m *served) statusOf(num int64) []statusEntry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []statusEntry
	for _, e := range m.status {
		if num == 0 || e.num == num {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b statusEntry) int { return int(min(max(a.num-b.num, -1), 1)) })
	return out
}

// loadVersion loads one model file as a version.
func (s *Server) loadVersion(model string, num int64, path string) (*version, error) {
	net, err := keras.Load(path)
	if err != nil {
		return nil, err
	}
	v := &version{num: num, path: path, net: net, inputs: net.Inputs(), outputs: outputNames(net.Outputs())}
	if s.opts.BatchMax > 1 {
		v.batch = newBatcher(model, net, s.opts.BatchMax, s.opts.BatchTimeout, s.compute, s.metrics)
	}
	return v, nil
}

// outputNames makes the output names unique as tf-keras does for a
// SavedModel's signature (Model._set_output_names): a layer giving
// several outputs is named, then name_1, name_2, ...
func outputNames(ports []keras.Port) []string {
	names := make([]string, len(ports))
	used := make(map[string]bool)
	next := make(map[string]int)
	for i, p := range ports {
		name := p.Name
		for used[name] {
			n := max(next[p.Name], 1)
			name = fmt.Sprintf("%s_%d", p.Name, n)
			next[p.Name] = n + 1
		}
		used[name] = true
		names[i] = name
	}
	return names
}

// install makes v the model's current version and retires the previous
// one once every request holding it has finished.
func (s *Server) install(m *served, v *version) {
	m.mu.Lock()
	old := m.current
	m.current = v
	m.setStatus(v.num, stateAvailable, "")
	if old != nil && old.num != v.num {
		m.setStatus(old.num, stateUnloading, "")
	}
	m.mu.Unlock()
	s.metrics.version.WithLabelValues(m.cfg.Name).Set(float64(v.num))
	s.log.Info("model version available", "model", m.cfg.Name, "version", v.num, "path", v.path)
	if old == nil || old == v {
		return
	}
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		old.active.Wait()
		if old.batch != nil {
			old.batch.stop()
		}
		m.mu.Lock()
		if old.num != m.current.num {
			m.setStatus(old.num, stateEnd, "")
		}
		m.mu.Unlock()
		s.log.Info("model version retired", "model", m.cfg.Name, "version", old.num)
	}()
}

// loadFile loads a model given as one file, as version 1.
func (s *Server) loadFile(m *served) error {
	m.mu.Lock()
	m.setStatus(1, stateLoading, "")
	m.mu.Unlock()
	v, err := s.loadVersion(m.cfg.Name, 1, m.cfg.Path)
	if err != nil {
		m.mu.Lock()
		m.setStatus(1, stateEnd, err.Error())
		m.mu.Unlock()
		return fmt.Errorf("model %q: %w", m.cfg.Name, err)
	}
	s.install(m, v)
	return nil
}

// poll looks at a base directory once, and loads its highest version if
// that is not the one served. A version that fails to load leaves the
// current one serving.
func (s *Server) poll(m *served) error {
	num, path, stamp, err := latestVersion(m.cfg.BasePath)
	if err != nil || num < 0 {
		return err
	}
	m.mu.RLock()
	cur := m.current
	failedStamp, failed := m.failed[path]
	m.mu.RUnlock()
	if (cur != nil && cur.num == num && cur.path == path) || (failed && failedStamp == stamp) {
		return nil
	}
	m.mu.Lock()
	m.setStatus(num, stateLoading, "")
	m.mu.Unlock()
	v, err := s.loadVersion(m.cfg.Name, num, path)
	if err != nil {
		m.mu.Lock()
		m.failed[path] = stamp
		m.setStatus(num, stateEnd, err.Error())
		m.mu.Unlock()
		return fmt.Errorf("model %q version %d: %w", m.cfg.Name, num, err)
	}
	s.install(m, v)
	return nil
}

// latestVersion finds the highest numbered version directory under base
// that holds a model file, and that file with its size and time; num is
// -1 when there is none.
func latestVersion(base string) (num int64, path, stamp string, err error) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return -1, "", "", err
	}
	num = -1
	for _, e := range entries {
		n, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || n < 0 || !e.IsDir() || n <= num {
			continue
		}
		file, err := modelFile(filepath.Join(base, e.Name()))
		if err != nil {
			continue
		}
		num, path = n, file
	}
	if num < 0 {
		return -1, "", "", nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return -1, "", "", err
	}
	return num, path, fmt.Sprint(fi.Size(), fi.ModTime().UnixNano()), nil
}

// errNoModelFile marks a version directory without exactly one model.
var errNoModelFile = errors.New("a version directory must hold exactly one .keras or .h5 file")

// modelFile returns the one .keras or .h5 file in dir.
func modelFile(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.Type().IsRegular() && (ext == ".keras" || ext == ".h5" || ext == ".hdf5") {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%s: %w (found %d)", dir, errNoModelFile, len(found))
	}
	return found[0], nil
}

// pollLoop polls every base directory until stop is closed.
func (s *Server) pollLoop(every time.Duration) {
	defer s.polling.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.PollNow()
		}
	}
}

// PollNow looks at every model's base directory once, loading new
// versions; Start polls every Options.PollInterval on its own.
func (s *Server) PollNow() {
	for _, m := range s.models {
		if m.cfg.BasePath == "" {
			continue
		}
		if err := s.poll(m); err != nil {
			s.log.Error("model version not loaded", "model", m.cfg.Name, "err", err)
		}
	}
}
