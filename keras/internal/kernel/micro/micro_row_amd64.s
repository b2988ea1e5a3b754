//go:build amd64 && !purego

#include "textflag.h"

// row8, row4 and row1 set c (16·P floats) to the row a (k floats) times P
// packed panels (k×16 floats each, pstride bytes apart, the first at b),
// adding c's values to the sums when add is not 0, with AVX-512: one
// 512-bit accumulator per panel, each step broadcasting a[p] and adding
// its products with the panels' rows p in fused multiply-adds, so every
// sum runs over p in order, as in kernel6x32. One row is a matrix-vector
// product, bound by reading the panels; eight accumulators keep two
// loads a cycle going.

// func row8(k int, a *float32, b *float32, pstride int, c *float32, add int)
TEXT ·row8(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), SI
	MOVQ pstride+24(FP), BX
	MOVQ c+32(FP), DI
	LEAQ (SI)(BX*2), R8
	ADDQ BX, R8 // the fourth panel
	LEAQ (SI)(BX*4), R9 // the fifth
	LEAQ (R8)(BX*4), R10 // the eighth
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ CX, CX
	JZ done8
loop8:
	VBROADCASTSS (AX), Z8
	VFMADD231PS (SI), Z8, Z0
	VFMADD231PS (SI)(BX*1), Z8, Z1
	VFMADD231PS (SI)(BX*2), Z8, Z2
	VFMADD231PS (R8), Z8, Z3
	VFMADD231PS (R9), Z8, Z4
	VFMADD231PS (R9)(BX*1), Z8, Z5
	VFMADD231PS (R9)(BX*2), Z8, Z6
	VFMADD231PS (R10), Z8, Z7
	ADDQ $4, AX
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ CX
	JNZ loop8
done8:
	MOVQ add+40(FP), DX
	TESTQ DX, DX
	JZ store8
	VADDPS 0(DI), Z0, Z0
	VADDPS 64(DI), Z1, Z1
	VADDPS 128(DI), Z2, Z2
	VADDPS 192(DI), Z3, Z3
	VADDPS 256(DI), Z4, Z4
	VADDPS 320(DI), Z5, Z5
	VADDPS 384(DI), Z6, Z6
	VADDPS 448(DI), Z7, Z7
store8:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VZEROUPPER
	RET

// func row4(k int, a *float32, b *float32, pstride int, c *float32, add int)
TEXT ·row4(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), SI
	MOVQ pstride+24(FP), BX
	MOVQ c+32(FP), DI
	LEAQ (SI)(BX*2), R8
	ADDQ BX, R8 // the fourth panel
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	TESTQ CX, CX
	JZ done4
loop4:
	VBROADCASTSS (AX), Z8
	VFMADD231PS (SI), Z8, Z0
	VFMADD231PS (SI)(BX*1), Z8, Z1
	VFMADD231PS (SI)(BX*2), Z8, Z2
	VFMADD231PS (R8), Z8, Z3
	ADDQ $4, AX
	ADDQ $64, SI
	ADDQ $64, R8
	DECQ CX
	JNZ loop4
done4:
	MOVQ add+40(FP), DX
	TESTQ DX, DX
	JZ store4
	VADDPS 0(DI), Z0, Z0
	VADDPS 64(DI), Z1, Z1
	VADDPS 128(DI), Z2, Z2
	VADDPS 192(DI), Z3, Z3
store4:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VZEROUPPER
	RET

// func row1(k int, a *float32, b *float32, pstride int, c *float32, add int)
TEXT ·row1(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), SI
	MOVQ pstride+24(FP), BX
	MOVQ c+32(FP), DI
	VPXORD Z0, Z0, Z0
	TESTQ CX, CX
	JZ done1
loop1:
	VBROADCASTSS (AX), Z8
	VFMADD231PS (SI), Z8, Z0
	ADDQ $4, AX
	ADDQ $64, SI
	DECQ CX
	JNZ loop1
done1:
	MOVQ add+40(FP), DX
	TESTQ DX, DX
	JZ store1
	VADDPS 0(DI), Z0, Z0
store1:
	VMOVUPS Z0, 0(DI)
	VZEROUPPER
	RET
