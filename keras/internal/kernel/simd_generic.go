//go:build !(goexperiment.simd && amd64)

package kernel

// Without GOEXPERIMENT=simd (or off amd64) the element-wise kernels run
// their scalar loops only; see simd_amd64.go.

// SIMD names the vector extension the element-wise kernels use, if any.
const SIMD = ""

// haveAVX512: no 512-bit kernels run (sigmoid, tanh and swish are the
// scalar loops' formulas).
const haveAVX512 = false

func mulAddVec(d, a, b []float32) int                                                       { return 0 }
func maxVec(d, s []float32) int                                                             { return 0 }
func maxCellsVec(out, in []float32, cells []int) int                                        { return 0 }
func dw3x3Vec(d []float32, rows [3][]float32, k []float32, count, stride, channels int) int { return 0 }
func sumPositionsVec(acc []float64, x []float32, n, ch int) int                             { return 0 }
func tapsVec(d, x, k []float32, xo, ko []int, count, xStep, dStep int) int                  { return 0 }
func addVec(d, b []float32) int                                                             { return 0 }
func mulVec(d, b []float32) int                                                             { return 0 }
func reluVec(x []float32) int                                                               { return 0 }
func biasReluVec(row, bias []float32) int                                                   { return 0 }
func biasReluCapVec(x, bias []float32, maxValue float32, hasMax bool) bool                  { return false }
func sigmoidVec(x []float32) int                                                            { return 0 }
func tanhVec(x []float32) int                                                               { return 0 }
func swishVec(x []float32) int                                                              { return 0 }
func lstmVec(h, c, x []float32, ldx int, rec []float32, rows, u int, keep []bool) int {
	return 0
}
func gruVec(h, x []float32, ldx int, rec []float32, rows, u int, keep []bool) int { return 0 }
func softmaxVec(x []float32, n int) bool                                          { return false }
func layerNormVec(dst, x, gamma, beta []float32, n int, eps float32) bool         { return false }
func mulRowsVec(x, s []float32) int                                               { return 0 }
func maxWindowsVec(out, in []float32, rel []int, count, step, ch int) int         { return 0 }
func channelsVec(dst, x, a, b []float32, sub bool) int                            { return 0 }
