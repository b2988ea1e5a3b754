package serve

import (
	"slices"
	"sync"
	"time"

	"github.com/kerascope/kerascope/keras"
	"github.com/prometheus/client_golang/prometheus"
)

// Micro-batching: concurrent predict requests on one model version wait
// up to a timeout to be stacked along the batch dimension into one
// Predict, whose outputs are then cut back into each request's rows. A
// batched matrix product reads each weight once for all the rows, which
// is where the gain comes from. Requests whose inputs differ in any
// dimension other than the batch run on their own.

// A job is one request's inputs waiting for a batch.
type job struct {
	inputs []*keras.Tensor
	rows   int // the batch of every input; -1 when they disagree
	done   chan result
}

type result struct {
	outs []*keras.Tensor
	err  error
}

type batcher struct {
	net     *keras.Net
	max     int
	timeout time.Duration
	compute chan struct{} // the server's slots for running Predict
	metrics *metrics
	rows    prometheus.Observer // the model's batch size histogram

	jobs chan *job
	quit chan struct{}
	wg   sync.WaitGroup
}

func newBatcher(model string, net *keras.Net, maxRows int, timeout time.Duration, compute chan struct{}, m *metrics) *batcher {
	b := &batcher{net: net, max: maxRows, timeout: timeout, compute: compute, metrics: m, rows: m.batchSize.WithLabelValues(model),
		jobs: make(chan *job), quit: make(chan struct{})}
	b.wg.Add(1)
	go b.loop()
	return b
}

// predict runs inputs in the next batch. The caller holds the version, so
// stop is not called before predict returns.
func (b *batcher) predict(inputs []*keras.Tensor) ([]*keras.Tensor, error) {
	j := &job{inputs: inputs, rows: batchRows(inputs), done: make(chan result, 1)}
	b.jobs <- j
	r := <-j.done
	return r.outs, r.err
}

// stop ends the batcher once the version has no request left.
func (b *batcher) stop() {
	close(b.quit)
	b.wg.Wait()
}

func batchRows(inputs []*keras.Tensor) int {
	rows := -1
	for _, t := range inputs {
		if len(t.Shape) == 0 || (rows >= 0 && t.Shape[0] != rows) {
			return -1
		}
		rows = t.Shape[0]
	}
	return rows
}

func (b *batcher) loop() {
	defer b.wg.Done()
	var carry *job // a job that did not fit the last batch
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.jobs:
			case <-b.quit:
				return
			}
		}
		batch, rows := []*job{first}, max(first.rows, 1)
		timer.Reset(b.timeout)
	collect:
		for rows < b.max {
			select {
			case j := <-b.jobs:
				if rows+max(j.rows, 1) > b.max {
					carry = j
					break collect
				}
				batch = append(batch, j)
				rows += max(j.rows, 1)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		// Waiting for a free slot lets more requests queue, so a busy
		// server makes bigger batches.
		b.compute <- struct{}{}
		b.wg.Add(1)
		go func() {
			defer func() { <-b.compute; b.wg.Done() }()
			b.run(batch)
		}()
	}
}

// run predicts a batch: the jobs whose inputs stack run as one Predict,
// the others each on their own.
func (b *batcher) run(batch []*job) {
	b.metrics.queued.Sub(float64(len(batch)))
	for len(batch) > 0 {
		group := []*job{batch[0]}
		rest := batch[:0:0]
		for _, j := range batch[1:] {
			if stacks(group[0], j) {
				group = append(group, j)
			} else {
				rest = append(rest, j)
			}
		}
		b.runGroup(group)
		batch = rest
	}
}

// stacks reports whether two jobs' inputs differ only in their batch.
func stacks(a, c *job) bool {
	if a.rows < 0 || c.rows < 0 {
		return false
	}
	for k, t := range a.inputs {
		if !slices.Equal(t.Shape[1:], c.inputs[k].Shape[1:]) {
			return false
		}
	}
	return true
}

func (b *batcher) runGroup(group []*job) {
	if len(group) == 1 {
		j := group[0]
		b.rows.Observe(float64(max(j.rows, 1)))
		outs, err := b.net.Predict(j.inputs...)
		j.done <- result{outs, err}
		return
	}
	rows := 0
	for _, j := range group {
		rows += j.rows
	}
	stacked := make([]*keras.Tensor, len(group[0].inputs))
	for k, t := range group[0].inputs {
		shape := append([]int{rows}, t.Shape[1:]...)
		data := make([]float32, 0, len(t.Data)/t.Shape[0]*rows)
		for _, j := range group {
			data = append(data, j.inputs[k].Data...)
		}
		stacked[k] = &keras.Tensor{Shape: shape, Data: data}
	}
	b.rows.Observe(float64(rows))
	outs, err := b.net.Predict(stacked...)
	if err == nil {
		for _, o := range outs {
			if len(o.Shape) == 0 || o.Shape[0] != rows {
				err = errUnbatchable
			}
		}
	}
	if err != nil {
		// Let each request meet its own error (or succeed alone).
		for _, j := range group {
			b.rows.Observe(float64(j.rows))
			outs, err := b.net.Predict(j.inputs...)
			j.done <- result{outs, err}
		}
		return
	}
	off := 0
	for _, j := range group {
		mine := make([]*keras.Tensor, len(outs))
		for k, o := range outs {
			inner := len(o.Data) / rows
			mine[k] = &keras.Tensor{
				Shape: append([]int{j.rows}, o.Shape[1:]...),
				Data:  o.Data[off*inner : (off+j.rows)*inner : (off+j.rows)*inner],
			}
		}
		off += j.rows
		j.done <- result{mine, nil}
	}
}
