//go:build !noasm

#include "textflag.h"

// func skipBelowAVX(l *float32, n, i int, thr float32) int
TEXT ·skipBelowAVX(SB), NOSPLIT, $0-40
	MOVQ l+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ i+16(FP), AX
	VBROADCASTSS thr+24(FP), Y0
	LEAQ 32(AX), DX
	CMPQ DX, CX
	JGT done

loop:
	// Predicate 0x1a (NGT_UQ): thr > l is false, or unordered (NaN): the values the scalar
	// scan must look at.
	VCMPPS $0x1a, (SI)(AX*4), Y0, Y1
	VCMPPS $0x1a, 32(SI)(AX*4), Y0, Y2
	VCMPPS $0x1a, 64(SI)(AX*4), Y0, Y3
	VCMPPS $0x1a, 96(SI)(AX*4), Y0, Y4
	VORPS Y1, Y2, Y1
	VORPS Y3, Y4, Y3
	VORPS Y1, Y3, Y1
	VMOVMSKPS Y1, BX
	TESTL BX, BX
	JNZ done
	ADDQ $32, AX
	LEAQ 32(AX), DX
	CMPQ DX, CX
	JLE loop

done:
	MOVQ AX, ret+32(FP)
	VZEROUPPER
	RET
