package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
	"golang.org/x/term"
)

const predictHelp = `Runs the model natively on a batch of inputs and writes its outputs, the
numbers Keras's model.predict gives (within float32 rounding).

Inputs: one --input per model input, in the model's order (kerascope summary
lists it), or by name as --input NAME=PATH in any order; PATH - reads stdin.
Formats, from --input-format, else the file's extension, else its content:
  .npy   a NumPy array, batch first; float16/32/64, integer and bool arrays
         are converted to float32; complex, string and object arrays refused
  .json  nested arrays of numbers, batch first: [[1, 2], [3, 4]]
  .csv   one sample per row, comma-separated; a first row without numbers is
         a header; a row holds one sample flattened in row-major order, so
         CSV also feeds inputs of rank 3 and more whose sample size is known

Outputs (--format, else --output's extension, which must be one of these,
else json on stdout):
  json   one object keyed by output name: {"dense": [[0.1, 0.9], ...]}
  npy    float32 arrays; several outputs need --output with {name}
  csv    one sample per row, flattened; several outputs need {name}
--output out_{name}.npy writes one file per output. Nothing is written when
anything fails. Exit codes: 0 success; 1 an input, the model or the output
failed (including models with layers that cannot run natively, refused
before any input is read); 2 usage errors; 3 the file is not a Keras model.`

type predictOptions struct {
	inputs      []string
	inputFormat string
	output      string
	format      string
	batchSize   int
}

func predictFlags(out io.Writer) (*pflagSet, *predictOptions) {
	opts := &predictOptions{}
	fs := newFlagSet("predict", out)
	fs.StringArrayVarP(&opts.inputs, "input", "i", nil, "an input: `PATH` or NAME=PATH, - for stdin; repeat for each model input")
	fs.StringVar(&opts.inputFormat, "input-format", "", "format of every input: npy, json or csv (default: each file's extension, else its content)")
	fs.StringVarP(&opts.output, "output", "o", "", "write to `FILE` instead of stdout; {name} in it is replaced by each output's name")
	fs.StringVar(&opts.format, "format", "", "output format: json, npy or csv (default: --output's extension, else json)")
	fs.IntVar(&opts.batchSize, "batch-size", 0, "predict `N` samples at a time, to bound memory (default: all at once)")
	return fs, opts
}

// stdin is what --input - reads; tests replace it.
var stdin io.Reader = os.Stdin

const stdinName = "<stdin>"

var tensorFormats = []string{"npy", "json", "csv"}

func isTensorFormat(f string) bool {
	for _, t := range tensorFormats {
		if f == t {
			return true
		}
	}
	return false
}

// formatOfExt returns the format a file name's extension names, or "".
func formatOfExt(path string) string {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if isTensorFormat(ext) {
		return ext
	}
	return ""
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs, opts := predictFlags(stderr)
	path, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	// Everything the command line alone decides is checked before the
	// model is read.
	format := opts.format
	switch {
	case format != "":
		if !isTensorFormat(format) {
			return usagef("predict: --format %q: want json, npy or csv", format)
		}
	case opts.output == "" || opts.output == "-":
		format = "json"
	default:
		// As graph does: an extension that names no format is refused
		// rather than guessed, so p.xml never quietly holds JSON.
		if format = formatOfExt(strings.ReplaceAll(opts.output, "{name}", "")); format == "" {
			return usagef("predict: --output %q: unknown extension %q; name the file .json, .npy or .csv, or give --format json|npy|csv",
				opts.output, filepath.Ext(opts.output))
		}
	}
	if opts.inputFormat != "" && !isTensorFormat(opts.inputFormat) {
		return usagef("predict: --input-format %q: want npy, json or csv", opts.inputFormat)
	}
	if opts.batchSize < 0 {
		return usagef("predict: --batch-size must not be negative")
	}
	toStdout := opts.output == "" || opts.output == "-"
	pattern := strings.Contains(opts.output, "{name}")
	if pattern && format == "json" {
		return usagef("predict: --output %q: JSON holds every output in one document; {name} is for npy and csv", opts.output)
	}
	if f, ok := stdout.(*os.File); ok && toStdout && format == "npy" && term.IsTerminal(int(f.Fd())) {
		return usagef("predict: not writing binary .npy to a terminal; use --output FILE or redirect stdout")
	}
	fromStdin := 0
	for _, a := range opts.inputs {
		if a == "-" || strings.HasSuffix(a, "=-") {
			fromStdin++
		}
	}
	if fromStdin > 1 {
		return usagef("predict: only one --input can read stdin")
	}

	// A model that cannot run refuses here, before any input is read.
	net, err := keras.Load(path)
	if err != nil {
		return weightsHint(err, path)
	}
	ports := net.Inputs()
	outPorts := net.Outputs()
	if len(opts.inputs) == 0 {
		return usagef("predict: no --input; the model takes %s", describePorts(ports))
	}
	if len(outPorts) > 1 && format != "json" && !pattern {
		return usagef("predict: the model has %d outputs (%s); --format %s writes one file per output: give --output with {name}, e.g. --output out_{name}.%s",
			len(outPorts), portNames(outPorts), format, format)
	}
	files, err := bindInputs(opts.inputs, ports)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	inputs := make([]*keras.Tensor, len(ports))
	for i, file := range files {
		if inputs[i], err = readInput(file, ports[i], opts.inputFormat, opts.batchSize); err != nil {
			return err
		}
		if inputs[i].Shape[0] != inputs[0].Shape[0] {
			return fmt.Errorf("%s: %s, but %s has %d", displayName(file), plural(inputs[i].Shape[0], "sample"), displayName(files[0]), inputs[0].Shape[0])
		}
	}
	p := startProgress(stderr, "predicting "+plural(inputs[0].Shape[0], "sample"))
	outs, err := predictBatches(net, inputs, opts.batchSize, p)
	p.stop()
	if err != nil {
		var ie *keras.InputError
		if errors.As(err, &ie) {
			for i, p := range ports {
				if p.Name == ie.Input {
					return fmt.Errorf("%s: %w", displayName(files[i]), err)
				}
			}
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	names := uniqueNames(outPorts)

	// Render every output before writing anything.
	if format == "json" {
		var buf bytes.Buffer
		buf.WriteString("{")
		for i, t := range outs {
			var b bytes.Buffer
			if err := tensor.WriteJSON(&b, t); err != nil {
				// JSON cannot hold NaN or infinities; the other formats can.
				msg := strings.TrimSuffix(err.Error(), "; write .npy or CSV instead")
				return fmt.Errorf("output %q: %s; use --format npy or csv", names[i], msg)
			}
			key, _ := json.Marshal(names[i])
			if i > 0 {
				buf.WriteString(",")
			}
			fmt.Fprintf(&buf, "\n  %s: ", key)
			buf.Write(bytes.ReplaceAll(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"), []byte("\n  ")))
		}
		buf.WriteString("\n}\n")
		return writeDest(stdout, opts.output, toStdout, [][2]string{{opts.output, buf.String()}})
	}
	var dests [][2]string
	for i, t := range outs {
		var b bytes.Buffer
		if format == "npy" {
			err = tensor.WriteNPY(&b, t)
		} else {
			err = tensor.WriteCSV(&b, t)
		}
		if err != nil {
			return fmt.Errorf("output %q: %w", names[i], err)
		}
		dest := strings.ReplaceAll(opts.output, "{name}", fileSafe(names[i]))
		dests = append(dests, [2]string{dest, b.String()})
	}
	return writeDest(stdout, opts.output, toStdout, dests)
}

// An inputFile is where one model input comes from.
type inputFile struct {
	path string // "-" for stdin
	arg  string // the --input argument
}

func displayName(f inputFile) string {
	if f.path == "-" {
		return stdinName
	}
	return f.path
}

// bindInputs matches the --input arguments to the model's inputs: all by
// position or all by name.
func bindInputs(args []string, ports []keras.Port) ([]inputFile, error) {
	files := make([]inputFile, len(ports))
	named, positional := 0, 0
	given := make([]bool, len(ports))
	for _, a := range args {
		name, path, hasEq := strings.Cut(a, "=")
		idx := portIndex(ports, name)
		switch {
		case hasEq && idx >= 0:
			if given[idx] {
				return nil, usagef("predict: input %q given twice", name)
			}
			given[idx] = true
			files[idx] = inputFile{path: path, arg: a}
			named++
			continue
		case hasEq && name != "" && !exists(a):
			return nil, fmt.Errorf("--input %s: the model has no input named %q; it takes %s", a, name, describePorts(ports))
		}
		if positional < len(files) {
			files[positional] = inputFile{path: a, arg: a}
		}
		positional++
	}
	if named > 0 && positional > 0 {
		return nil, usagef("predict: give every --input by position or every one as NAME=PATH, not both")
	}
	if positional > 0 && positional != len(ports) {
		return nil, fmt.Errorf("the model takes %s, %s; %d given", plural(len(ports), "input"), describePorts(ports), positional)
	}
	for i, p := range ports {
		if named > 0 && !given[i] {
			return nil, fmt.Errorf("no --input for the model's input %q %s; it takes %s", p.Name, p.Shape, describePorts(ports))
		}
	}
	return files, nil
}

// plural counts things: "1 input", "2 inputs".
func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func portIndex(ports []keras.Port, name string) int {
	for i, p := range ports {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// describePorts lists ports with their shapes: "input" (None, 4), ...
func describePorts(ports []keras.Port) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprintf("%q %s", p.Name, p.Shape)
	}
	return strings.Join(parts, ", ")
}

func portNames(ports []keras.Port) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprintf("%q", p.Name)
	}
	return strings.Join(parts, ", ")
}

// readInput reads one input file and checks it against the model input
// it feeds.
func readInput(f inputFile, port keras.Port, format string, batchSize int) (*keras.Tensor, error) {
	name := displayName(f)
	var r io.Reader
	if f.path == "-" {
		r = stdin
	} else {
		file, err := os.Open(f.path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		defer file.Close()
		if fi, err := file.Stat(); err == nil && fi.IsDir() {
			return nil, fmt.Errorf("%s: is a directory", name)
		}
		r = file
		if format == "" {
			format = formatOfExt(f.path)
		}
	}
	if format == "" {
		br := bufio.NewReader(r)
		format, r = sniffFormat(br), br
	}
	var t *keras.Tensor
	var err error
	lim := inputLimit(port, batchSize)
	switch format {
	case "npy":
		t, err = lim.ReadNPY(r)
	case "json":
		t, err = lim.ReadJSON(r)
	case "csv":
		lim.Row = lim.Sample // one flattened sample per row
		t, err = lim.ReadCSV(r)
	}
	if err != nil {
		// The readers' own format prefix repeats what the file name says.
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), format+": "))
	}
	if format == "csv" {
		if t, err = fromRows(t, port); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if len(t.Shape) > 0 && t.Shape[0] == 0 {
		return nil, fmt.Errorf("%s: empty batch (shape %s): no samples to predict", name, keras.Shape(t.Shape).Tuple())
	}
	if !fitsPort(t.Shape, port.Shape) && !onlyBatchDiffers(t.Shape, port.Shape) {
		return nil, fmt.Errorf("%s: shape %s does not fit the model's input %q %s", name, keras.Shape(t.Shape).Tuple(), port.Name, port.Shape)
	}
	return t, nil
}

// onlyBatchDiffers reports whether a shape fits a port but for its batch
// size: then Net.Predict says why the model holds its batch (a stateful
// layer), which this package cannot.
func onlyBatchDiffers(got []int, want keras.Shape) bool {
	if len(got) != len(want) || len(got) == 0 {
		return false
	}
	for i, d := range want[1:] {
		if d >= 0 && got[i+1] != d {
			return false
		}
	}
	return true
}

// A portLimit is how much of an input stream a model input can use.
type portLimit struct {
	tensor.Limit
	Sample int // values of one sample, 0 when free dimensions leave it open
}

// inputLimit bounds what predict reads for the model input port, so that
// a stream that goes on (an npy header declaring 1.5e8 floats, a CSV row
// of 1e7 values, a JSON number of a million digits) is refused once it
// exceeds what the model can use, not once memory runs out. A fixed batch
// dimension fixes the number of samples; otherwise an input holds at most
// tensor.DefaultMaxValues values (64 MiB of float32) in whole samples,
// and at least one sample and batchSize samples: --batch-size N always
// admits N samples. A sample is the product of the input's dimensions
// after the batch; one innermost JSON array holds at most its last
// dimension, one CSV row at most one sample.
func inputLimit(port keras.Port, batchSize int) portLimit {
	var l portLimit
	if len(port.Shape) == 0 {
		return l
	}
	sample, ok := port.Shape[1:].Size()
	if !ok || sample == 0 || sample > 1<<40 {
		return l // free dimensions: only the default bound
	}
	l.Sample = int(sample)
	if last := port.Shape[len(port.Shape)-1]; len(port.Shape) > 1 && last > 0 {
		l.Row = last
	}
	samples := max(tensor.DefaultMaxValues/l.Sample, 1, batchSize)
	if b := port.Shape[0]; b > 0 {
		samples = b // a fixed batch: no more samples can be used
	}
	if samples > (1<<40)/l.Sample {
		return l
	}
	l.Values = samples * l.Sample
	return l
}

// sniffFormat tells the formats apart by their first bytes: the .npy
// magic, a JSON array or object, else CSV.
func sniffFormat(br *bufio.Reader) string {
	head, _ := br.Peek(512)
	if bytes.HasPrefix(head, []byte("\x93NUMPY")) {
		return "npy"
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	if len(head) > 0 && (head[0] == '[' || head[0] == '{') {
		return "json"
	}
	return "csv"
}

// fromRows gives a CSV table, one flattened sample per row, the shape of
// the model input it feeds.
func fromRows(t *keras.Tensor, port keras.Port) (*keras.Tensor, error) {
	rows, cols := t.Shape[0], t.Shape[1]
	sample := port.Shape[1:]
	switch {
	case len(port.Shape) == 2:
		return t, nil // the shape check names any mismatch
	case len(port.Shape) < 1:
		return nil, fmt.Errorf("the model's input %q %s has no batch dimension for CSV rows", port.Name, port.Shape)
	}
	size, known := sample.Size()
	if !known {
		return nil, fmt.Errorf("CSV holds one flattened sample per row, but the model's input %q %s has free dimensions, so a row's shape is unknown; use .npy or JSON", port.Name, port.Shape)
	}
	if int64(cols) != size {
		return nil, fmt.Errorf("rows hold %d values, but a sample of the model's input %q %s has %d", cols, port.Name, port.Shape, size)
	}
	return &keras.Tensor{Shape: append([]int{rows}, sample...), Data: t.Data}, nil
}

// fitsPort reports whether a concrete shape matches a model shape with
// free (None) dimensions.
func fitsPort(got []int, want keras.Shape) bool {
	if len(got) != len(want) || len(got) == 0 {
		return false
	}
	for i, d := range want {
		if d >= 0 && got[i] != d {
			return false
		}
	}
	return true
}

// predictBatches runs the model on chunks of size samples (all at once for
// size 0) and joins the chunks' outputs.
func predictBatches(net *keras.Net, in []*keras.Tensor, size int, p *progress) ([]*keras.Tensor, error) {
	n := in[0].Shape[0]
	if size == 0 || size >= n {
		return net.Predict(in...)
	}
	var outs []*keras.Tensor
	for from := 0; from < n; from += size {
		to := min(from+size, n)
		chunk := make([]*keras.Tensor, len(in))
		for i, t := range in {
			// Predict never writes to its inputs, so chunks can share
			// the input's memory.
			per := len(t.Data) / n
			chunk[i] = &keras.Tensor{Shape: append([]int{to - from}, t.Shape[1:]...), Data: t.Data[from*per : to*per]}
		}
		p.set(int64(from), int64(n))
		part, err := net.Predict(chunk...)
		if err != nil {
			return nil, fmt.Errorf("samples %d to %d: %w", from, to-1, err)
		}
		if outs == nil {
			outs = make([]*keras.Tensor, len(part))
			for i, t := range part {
				outs[i] = &keras.Tensor{Shape: append([]int{0}, t.Shape[1:]...)}
			}
		}
		for i, t := range part {
			if !keras.Shape(t.Shape[1:]).Equal(outs[i].Shape[1:]) {
				return nil, fmt.Errorf("output %d: samples %d to %d give shape %v, earlier ones %v", i, from, to-1, t.Shape, outs[i].Shape)
			}
			outs[i].Shape[0] += t.Shape[0]
			outs[i].Data = append(outs[i].Data, t.Data...)
		}
	}
	return outs, nil
}

// uniqueNames names the outputs as Keras does: by their layer, with _1,
// _2, ... for a layer that gives several outputs.
func uniqueNames(ports []keras.Port) []string {
	names := make([]string, len(ports))
	seen := make(map[string]int)
	for i, p := range ports {
		names[i] = p.Name
		if k := seen[p.Name]; k > 0 {
			names[i] = fmt.Sprintf("%s_%d", p.Name, k)
		}
		seen[p.Name]++
	}
	return names
}

// fileSafe keeps an output name from reaching outside the pattern's
// directory.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return '_'
		}
		return r
	}, name)
}

// writeDest writes rendered outputs to stdout or to files. Files are
// written under temporary names and renamed once all are complete, so a
// failure leaves no partial output.
func writeDest(stdout io.Writer, output string, toStdout bool, dests [][2]string) error {
	if toStdout {
		for _, d := range dests {
			if _, err := io.WriteString(stdout, d[1]); err != nil {
				return err
			}
		}
		return nil
	}
	var temps []string
	cleanup := func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}
	for _, d := range dests {
		f, err := os.CreateTemp(filepath.Dir(d[0]), "."+filepath.Base(d[0])+".*")
		if err != nil {
			cleanup()
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the temporary name would only confuse
			}
			return fmt.Errorf("%s: %w", d[0], err)
		}
		temps = append(temps, f.Name())
		_, err = f.WriteString(d[1])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return fmt.Errorf("%s: %w", d[0], err)
		}
		// CreateTemp makes files private; outputs get the usual mode.
		os.Chmod(f.Name(), 0o644)
	}
	for i, d := range dests {
		if err := os.Rename(temps[i], d[0]); err != nil {
			cleanup()
			return fmt.Errorf("%s: %w", d[0], err)
		}
	}
	return nil
}
