//go:build !noasm

#include "textflag.h"

// func dotAVX2(src *uint8, k *int32, n int) int32
//
// Returns sum(src[i]*k[i]) for i < n&^7 with int32 lanes (wrapping, so any summation
// order gives the same bits). The caller adds the last n%8 products.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ src+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

loop16:
	CMPQ CX, $16
	JLT  tail8
	VPMOVZXBD (SI), Y2
	VPMOVZXBD 8(SI), Y3
	VPMULLD   (DI), Y2, Y2
	VPMULLD   32(DI), Y3, Y3
	VPADDD    Y2, Y0, Y0
	VPADDD    Y3, Y1, Y1
	ADDQ      $16, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       loop16

tail8:
	CMPQ CX, $8
	JLT  done
	VPMOVZXBD (SI), Y2
	VPMULLD   (DI), Y2, Y2
	VPADDD    Y2, Y0, Y0

done:
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER
	MOVL         AX, ret+24(FP)
	RET

// func dotRowsAVX2(sums *int32, src *uint8, starts *int32, k *int32, out int, vlen int)
//
// For j < out: sums[j] = sum over t < vlen of src[starts[j]+t] * k[j*vlen+t], in int32
// lanes (wrapping). vlen is a positive multiple of 8.
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ sums+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ starts+16(FP), R8
	MOVQ k+24(FP), DX
	MOVQ out+32(FP), R10
	MOVQ vlen+40(FP), R11

outer:
	TESTQ   R10, R10
	JEQ     finished
	MOVLQSX (R8), AX
	LEAQ    (SI)(AX*1), R9
	MOVQ    R11, CX
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1

inner16:
	CMPQ      CX, $16
	JLT       inner8
	VPMOVZXBD (R9), Y2
	VPMOVZXBD 8(R9), Y3
	VPMULLD   (DX), Y2, Y2
	VPMULLD   32(DX), Y3, Y3
	VPADDD    Y2, Y0, Y0
	VPADDD    Y3, Y1, Y1
	ADDQ      $16, R9
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       inner16

inner8:
	TESTQ     CX, CX
	JEQ       reduce
	VPMOVZXBD (R9), Y2
	VPMULLD   (DX), Y2, Y2
	VPADDD    Y2, Y0, Y0
	ADDQ      $32, DX

reduce:
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	MOVL         AX, (DI)
	ADDQ         $4, DI
	ADDQ         $4, R8
	DECQ         R10
	JMP          outer

finished:
	VZEROUPPER
	RET

// func dotRowsMaddAVX2(sums *int32, src *uint8, starts *int32, kh *int16, kl *int16, out int, vlen int)
//
// Like dotRowsAVX2, with each weight split as k = kh*2048 + kl (kl in [0, 2047]) so that
// VPMADDWD multiplies 16-bit pixels by 16-bit weights: sums[j] = 2048*sum(p*kh) +
// sum(p*kl), all in wrapping int32 lanes, which equals sum(p*k) mod 2^32. vlen is a
// positive multiple of 16.
TEXT ·dotRowsMaddAVX2(SB), NOSPLIT, $0-56
	MOVQ sums+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ starts+16(FP), R8
	MOVQ kh+24(FP), DX
	MOVQ kl+32(FP), BX
	MOVQ out+40(FP), R10
	MOVQ vlen+48(FP), R11

mouter:
	TESTQ   R10, R10
	JEQ     mfinished
	MOVLQSX (R8), AX
	LEAQ    (SI)(AX*1), R9
	MOVQ    R11, CX
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	VPXOR   Y4, Y4, Y4
	VPXOR   Y5, Y5, Y5

minner32:
	CMPQ      CX, $32
	JLT       minner16
	VPMOVZXBW (R9), Y2
	VPMOVZXBW 16(R9), Y3
	VPMADDWD  (DX), Y2, Y6
	VPMADDWD  (BX), Y2, Y7
	VPADDD    Y6, Y0, Y0
	VPADDD    Y7, Y1, Y1
	VPMADDWD  32(DX), Y3, Y6
	VPMADDWD  32(BX), Y3, Y7
	VPADDD    Y6, Y4, Y4
	VPADDD    Y7, Y5, Y5
	ADDQ      $32, R9
	ADDQ      $64, DX
	ADDQ      $64, BX
	SUBQ      $32, CX
	JMP       minner32

minner16:
	TESTQ     CX, CX
	JEQ       mreduce
	VPMOVZXBW (R9), Y2
	VPMADDWD  (DX), Y2, Y6
	VPMADDWD  (BX), Y2, Y7
	VPADDD    Y6, Y0, Y0
	VPADDD    Y7, Y1, Y1
	ADDQ      $32, DX
	ADDQ      $32, BX

mreduce:
	VPADDD       Y4, Y0, Y0
	VPADDD       Y5, Y1, Y1
	VPSLLD       $11, Y0, Y0
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	MOVL         AX, (DI)
	ADDQ         $4, DI
	ADDQ         $4, R8
	DECQ         R10
	JMP          mouter

mfinished:
	VZEROUPPER
	RET
