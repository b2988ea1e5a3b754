package kernel

// One time step of the recurrent cells, after the matrix products: the
// caller has computed the input projections of every time step at once
// (x·W + input bias, one GEMM over batch×time rows) and, for this step,
// the recurrent projections rec = h·U (one GEMM over the batch). The step
// functions add the two, apply the gate activations and update the states
// in place.
//
// x holds the step's input projections for rows 0..rows-1 at x[r*ldx:],
// so that the caller can point into a batch-major projection of all time
// steps. keep, when not nil, says per row whether the step counts (Keras's
// mask): rows not kept leave their states unchanged. rec is scratch the
// step may overwrite.

// Act applies an activation in place to x, which holds rows of n values.
type Act = func(x []float32, n int)

// SimpleRNNStep: h = act(x + rec), rec rows×u.
func SimpleRNNStep(h, x []float32, ldx int, rec []float32, rows, u int, keep []bool, act Act) {
	for r := 0; r < rows; r++ {
		xr, zr := x[r*ldx:r*ldx+u], rec[r*u:(r+1)*u]
		for j, v := range xr {
			zr[j] += v
		}
	}
	act(rec[:rows*u], u)
	for r := 0; r < rows; r++ {
		if keep == nil || keep[r] {
			copy(h[r*u:(r+1)*u], rec[r*u:(r+1)*u])
		}
	}
}

// LSTMStep: with z = x + rec (rows×4u, gates i, f, g, o),
//
//	c = recAct(f)·c + recAct(i)·act(g),  h = recAct(o)·act(c).
func LSTMStep(h, c, x []float32, ldx int, rec []float32, rows, u int, keep []bool, act, recAct Act) {
	g := 4 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		z := rec[r*g : (r+1)*g]
		for j, v := range x[r*ldx : r*ldx+g] {
			z[j] += v
		}
		recAct(z[:2*u], u) // i and f
		act(z[2*u:3*u], u)
		recAct(z[3*u:], u)
		i, f, cand, o := z[:u], z[u:2*u], z[2*u:3*u], z[3*u:]
		cr, hr := c[r*u:(r+1)*u], h[r*u:(r+1)*u]
		for j := range cr {
			cr[j] = f[j]*cr[j] + i[j]*cand[j]
			i[j] = cr[j] // i is spent: act(c) is computed in its place
		}
		act(i, u)
		for j := range hr {
			hr[j] = o[j] * i[j]
		}
	}
}

// GRUStep is the reset-after GRU (Keras's reset_after=True and CuDNNGRU):
// with x = x·W + b_in (gates z, r, h) and rec = h·U + b_rec (rows×3u),
//
//	z = recAct(x_z + rec_z),  r = recAct(x_r + rec_r),
//	hh = act(x_h + r·rec_h),  h = z·h + (1-z)·hh.
func GRUStep(h, x []float32, ldx int, rec []float32, rows, u int, keep []bool, act, recAct Act) {
	g := 3 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		zr := rec[r*g : (r+1)*g]
		xr := x[r*ldx : r*ldx+g]
		for j := 0; j < 2*u; j++ {
			zr[j] += xr[j]
		}
		recAct(zr[:2*u], u)
		z, rg, hh := zr[:u], zr[u:2*u], zr[2*u:]
		for j := range hh {
			hh[j] = xr[2*u+j] + rg[j]*hh[j]
		}
		act(hh, u)
		hr := h[r*u : (r+1)*u]
		for j := range hr {
			hr[j] = z[j]*hr[j] + (1-z[j])*hh[j]
		}
	}
}

// GRUResetBefore is the first half of the reset-before GRU
// (reset_after=False): with rec = h·U[:, :2u] (rows×2u), it sets
// rec = recAct(x_zr + rec) (the z and r gates) and rh = r·h (rows×u), for
// the caller's product rh·U[:, 2u:].
func GRUResetBefore(rh, h, x []float32, ldx int, rec []float32, rows, u int, recAct Act) {
	g := 2 * u
	for r := 0; r < rows; r++ {
		zr := rec[r*g : (r+1)*g]
		for j, v := range x[r*ldx : r*ldx+g] {
			zr[j] += v
		}
	}
	recAct(rec[:rows*g], u)
	for r := 0; r < rows; r++ {
		rg := rec[r*g+u : (r+1)*g]
		hr, out := h[r*u:(r+1)*u], rh[r*u:(r+1)*u]
		for j := range out {
			out[j] = rg[j] * hr[j]
		}
	}
}

// GRUCandidate is the second half of the reset-before GRU: with xh the
// candidate's input projections (rows at xh[r*ldx:]), zr the gates from
// GRUResetBefore (rows×2u) and hrec = (r·h)·U_h (rows×u),
//
//	hh = act(xh + hrec),  h = z·h + (1-z)·hh.
func GRUCandidate(h, xh []float32, ldx int, zr, hrec []float32, rows, u int, keep []bool, act Act) {
	for r := 0; r < rows; r++ {
		hh := hrec[r*u : (r+1)*u]
		for j, v := range xh[r*ldx : r*ldx+u] {
			hh[j] += v
		}
	}
	act(hrec[:rows*u], u)
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		z := zr[r*2*u : r*2*u+u]
		hh, hr := hrec[r*u:(r+1)*u], h[r*u:(r+1)*u]
		for j := range hr {
			hr[j] = z[j]*hr[j] + (1-z[j])*hh[j]
		}
	}
}

// LSTMSigmoidTanh is LSTMStep with Keras's default activations, recAct =
// sigmoid and act = tanh as FastSigmoid and FastTanh compute them (the
// same bits), fused into one pass over each row: the gates are read once,
// never written back, and the vector constants are set up once per step
// for all rows. rec is left unchanged.
func LSTMSigmoidTanh(h, c, x []float32, ldx int, rec []float32, rows, u int, keep []bool) {
	n := lstmVec(h, c, x, ldx, rec, rows, u, keep)
	g := 4 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		z, xr := rec[r*g:(r+1)*g], x[r*ldx:r*ldx+g]
		cr, hr := c[r*u:(r+1)*u], h[r*u:(r+1)*u]
		for j := n; j < u; j++ {
			i := sigmoid32(z[j] + xr[j])
			f := sigmoid32(z[u+j] + xr[u+j])
			cand := tanh32(z[2*u+j] + xr[2*u+j])
			o := sigmoid32(z[3*u+j] + xr[3*u+j])
			cr[j] = f*cr[j] + i*cand
			hr[j] = o * tanh32(cr[j])
		}
	}
}

// GRUSigmoidTanh is GRUStep with Keras's default activations (recAct =
// sigmoid, act = tanh, as FastSigmoid and FastTanh), fused as
// LSTMSigmoidTanh. rec is left unchanged.
func GRUSigmoidTanh(h, x []float32, ldx int, rec []float32, rows, u int, keep []bool) {
	n := gruVec(h, x, ldx, rec, rows, u, keep)
	g := 3 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		zr, xr := rec[r*g:(r+1)*g], x[r*ldx:r*ldx+g]
		hr := h[r*u : (r+1)*u]
		for j := n; j < u; j++ {
			z := sigmoid32(zr[j] + xr[j])
			rg := sigmoid32(zr[u+j] + xr[u+j])
			hh := tanh32(xr[2*u+j] + rg*zr[2*u+j])
			hr[j] = z*hr[j] + (1-z)*hh
		}
	}
}
