//go:build !noasm

#include "textflag.h"

// BLOCK computes the dot product of the 32 int8 at (SI) (activations, |x| <= 127) and at
// (DI) (weights) into the 8 int32 lanes of dst, then advances DI by one block and SI by one
// block, wrapping SI to x after nb blocks. Y15 holds sixteen int16 ones.
#define BLOCK(dst) \
	VMOVDQU (DI), Y0 \
	VMOVDQU (SI), Y1 \
	VPABSB Y0, Y2 \
	VPSIGNB Y0, Y1, Y1 \
	VPMADDUBSW Y1, Y2, Y1 \
	VPMADDWD Y15, Y1, dst \
	ADDQ $32, DI \
	ADDQ $32, SI \
	DECQ R8 \
	JNZ 3(PC) \
	MOVQ R9, SI \
	MOVQ BX, R8

// func q8DotsAVX(n4, nb int, x, w *int8, dst *int32)
TEXT ·q8DotsAVX(SB), NOSPLIT, $0-40
	MOVQ n4+0(FP), CX
	MOVQ nb+8(FP), BX
	MOVQ x+16(FP), R9
	MOVQ w+24(FP), DI
	MOVQ dst+32(FP), DX
	MOVQ R9, SI
	MOVQ BX, R8
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15

loop:
	BLOCK(Y4)
	BLOCK(Y5)
	BLOCK(Y6)
	BLOCK(Y7)
	// Horizontal sums of four vectors: [a b c d] in one X register.
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD X5, X4, X4
	VMOVDQU X4, (DX)
	ADDQ $16, DX
	DECQ CX
	JNZ loop

	VZEROUPPER
	RET
