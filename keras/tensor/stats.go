package tensor

import "math"

// TensorStats summarizes a tensor's values. Min, Max, Mean and Std are over
// the finite values only, computed in float64; NaN and Inf count the rest,
// and FirstBad is the flat index of the first non-finite value (-1: none).
type TensorStats struct {
	Count              int
	Min, Max           float64
	Mean, Std          float64
	NaN, Inf, FirstBad int
}

// Stats computes the statistics of data.
func Stats(data []float32) TensorStats {
	s := TensorStats{Count: len(data), FirstBad: -1, Min: math.Inf(1), Max: math.Inf(-1)}
	var sum float64
	finite := 0
	for i, v := range data {
		x := float64(v)
		switch {
		case math.IsNaN(x):
			s.NaN++
		case math.IsInf(x, 0):
			s.Inf++
		default:
			finite++
			sum += x
			s.Min = math.Min(s.Min, x)
			s.Max = math.Max(s.Max, x)
			continue
		}
		if s.FirstBad < 0 {
			s.FirstBad = i
		}
	}
	if finite == 0 {
		s.Min, s.Max = math.NaN(), math.NaN()
		s.Mean, s.Std = math.NaN(), math.NaN()
		return s
	}
	s.Mean = sum / float64(finite)
	// Two passes: the variance from squared deviations, which stays exact
	// where sum-of-squares minus square-of-sum would cancel.
	var sq float64
	for _, v := range data {
		if x := float64(v); !math.IsNaN(x) && !math.IsInf(x, 0) {
			sq += (x - s.Mean) * (x - s.Mean)
		}
	}
	s.Std = math.Sqrt(sq / float64(finite))
	return s
}
