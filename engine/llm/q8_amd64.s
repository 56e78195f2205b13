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

// DOT4(off) adds, for each of the four rows r, the products of the activation dword at
// off+4r(R9) (four int8, broadcast) with the two weight vectors Z16, Z17 (32 outputs × four
// uint8 each) to Z(2r), Z(2r+1): exact int32 sums.
#define DOT4(off) \
	VMOVDQU32 (off*8)(DI), Z16 \
	VMOVDQU32 (off*8+64)(DI), Z17 \
	VPDPBUSD.BCST (off)(R9), Z16, Z0 \
	VPDPBUSD.BCST (off)(R9), Z17, Z1 \
	VPDPBUSD.BCST (off+4)(R9), Z16, Z2 \
	VPDPBUSD.BCST (off+4)(R9), Z17, Z3 \
	VPDPBUSD.BCST (off+8)(R9), Z16, Z4 \
	VPDPBUSD.BCST (off+8)(R9), Z17, Z5 \
	VPDPBUSD.BCST (off+12)(R9), Z16, Z6 \
	VPDPBUSD.BCST (off+12)(R9), Z17, Z7

// COMBINE(r, i0, i1, f0, f1) adds the block terms of row r to its float sums f0, f1:
// float32(float32(xd·sc) · float32(isum)), with the same operand order as q8MatVecAVX.
#define COMBINE(r, i0, i1, f0, f1) \
	VBROADCASTSS (r*4)(R10), Z18 \
	VCVTDQ2PS i0, i0 \
	VCVTDQ2PS i1, i1 \
	VMULPS Z22, Z18, Z19 \
	VMULPS Z23, Z18, Z20 \
	VMULPS i0, Z19, Z19 \
	VMULPS i1, Z20, Z20 \
	VADDPS Z19, f0, f0 \
	VADDPS Z20, f1, f1

// func q8Lanes4VNNI(n32, nr4, nb int, x *int8, xd *float32, corr *int32, w *uint8, sc *float32, lds int, dst *float32, ldd int)
TEXT ·q8Lanes4VNNI(SB), NOSPLIT, $0-88
	MOVQ n32+0(FP), CX
	MOVQ w+48(FP), R13
	MOVQ sc+56(FP), R14
	MOVQ lds+64(FP), R15
	MOVQ dst+72(FP), DX
	MOVQ ldd+80(FP), AX

group:
	MOVQ nr4+8(FP), BX
	MOVQ x+24(FP), R9
	MOVQ xd+32(FP), R10
	MOVQ corr+40(FP), R11
	MOVQ DX, SI

rows:
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ R13, DI
	MOVQ R14, R12
	MOVQ nb+16(FP), R8

block:
	// The integer sums start at -128·Σx of the row's block: the weights are stored as
	// w+128 (unsigned), so the dot products come out exact.
	VPBROADCASTD (R11), Z0
	VPBROADCASTD (R11), Z1
	VPBROADCASTD 4(R11), Z2
	VPBROADCASTD 4(R11), Z3
	VPBROADCASTD 8(R11), Z4
	VPBROADCASTD 8(R11), Z5
	VPBROADCASTD 12(R11), Z6
	VPBROADCASTD 12(R11), Z7
	DOT4(0)
	DOT4(16)
	DOT4(32)
	DOT4(48)
	DOT4(64)
	DOT4(80)
	DOT4(96)
	DOT4(112)
	VMOVUPS (R12), Z22
	VMOVUPS 64(R12), Z23
	COMBINE(0, Z0, Z1, Z8, Z9)
	COMBINE(1, Z2, Z3, Z10, Z11)
	COMBINE(2, Z4, Z5, Z12, Z13)
	COMBINE(3, Z6, Z7, Z14, Z15)
	ADDQ $128, R9
	ADDQ $16, R10
	ADDQ $16, R11
	ADDQ $1024, DI
	ADDQ R15, R12
	DECQ R8
	JNZ block

	VMOVUPS Z8, (SI)
	VMOVUPS Z9, 64(SI)
	ADDQ AX, SI
	VMOVUPS Z10, (SI)
	VMOVUPS Z11, 64(SI)
	ADDQ AX, SI
	VMOVUPS Z12, (SI)
	VMOVUPS Z13, 64(SI)
	ADDQ AX, SI
	VMOVUPS Z14, (SI)
	VMOVUPS Z15, 64(SI)
	ADDQ AX, SI
	DECQ BX
	JNZ rows

	MOVQ DI, R13
	ADDQ $128, R14
	ADDQ $128, DX
	DECQ CX
	JNZ group

	VZEROUPPER
	RET
