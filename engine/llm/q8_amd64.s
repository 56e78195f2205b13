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

// ROW computes the eight int32 partial sums of the dot product of the activation block in Y14
// with the weight block at addr into dst.
#define ROW(addr, dst) \
	VMOVDQU addr, Y8 \
	VPABSB Y8, Y9 \
	VPSIGNB Y8, Y14, Y10 \
	VPMADDUBSW Y10, Y9, Y10 \
	VPMADDWD Y15, Y10, dst

// func q8MatVecAVX(n8, nb, in int, x *int8, xd *float32, w *int8, scT *float32, stride int, dst *float32)
TEXT ·q8MatVecAVX(SB), NOSPLIT, $0-72
	MOVQ n8+0(FP), CX
	MOVQ in+16(FP), R10
	MOVQ w+40(FP), R13
	MOVQ scT+48(FP), R14
	MOVQ stride+56(FP), R15
	MOVQ dst+64(FP), DX
	LEAQ (R10)(R10*2), R11
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15

group:
	VXORPS Y13, Y13, Y13
	MOVQ nb+8(FP), BX
	MOVQ x+24(FP), SI
	MOVQ xd+32(FP), R8
	MOVQ R13, DI
	MOVQ R14, R12

block:
	VMOVDQU (SI), Y14
	LEAQ (DI)(R10*4), AX
	ROW((DI), Y0)
	ROW((DI)(R10*1), Y1)
	ROW((DI)(R10*2), Y2)
	ROW((DI)(R11*1), Y3)
	ROW((AX), Y4)
	ROW((AX)(R10*1), Y5)
	ROW((AX)(R10*2), Y6)
	ROW((AX)(R11*1), Y7)
	// Lane sums: Y0 = [s0 .. s7], the block sums of the eight rows.
	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y2, Y0, Y0
	VPHADDD Y6, Y4, Y4
	VPERM2I128 $0x20, Y4, Y0, Y1
	VPERM2I128 $0x31, Y4, Y0, Y2
	VPADDD Y2, Y1, Y0
	VCVTDQ2PS Y0, Y0
	VBROADCASTSS (R8), Y9
	VMULPS (R12), Y9, Y9
	VMULPS Y0, Y9, Y9
	VADDPS Y9, Y13, Y13
	ADDQ $32, SI
	ADDQ $4, R8
	ADDQ $32, DI
	ADDQ R15, R12
	DECQ BX
	JNZ block

	VMOVUPS Y13, (DX)
	ADDQ $32, DX
	LEAQ (R13)(R10*8), R13
	ADDQ $32, R14
	DECQ CX
	JNZ group

	VZEROUPPER
	RET
