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
