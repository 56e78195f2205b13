//go:build !noasm

#include "textflag.h"

// Byte shuffles taking R, G and B of 4 pixels (12 bytes) of each 128-bit lane into
// zero-extended dwords, packing dword bytes 0 back into 4 bytes, and the lane merge.
DATA lumaMaskR<>+0(SB)/8, $0x8080800380808000
DATA lumaMaskR<>+8(SB)/8, $0x8080800980808006
DATA lumaMaskR<>+16(SB)/8, $0x8080800380808000
DATA lumaMaskR<>+24(SB)/8, $0x8080800980808006
GLOBL lumaMaskR<>(SB), RODATA|NOPTR, $32

DATA lumaMaskG<>+0(SB)/8, $0x8080800480808001
DATA lumaMaskG<>+8(SB)/8, $0x8080800a80808007
DATA lumaMaskG<>+16(SB)/8, $0x8080800480808001
DATA lumaMaskG<>+24(SB)/8, $0x8080800a80808007
GLOBL lumaMaskG<>(SB), RODATA|NOPTR, $32

DATA lumaMaskB<>+0(SB)/8, $0x8080800580808002
DATA lumaMaskB<>+8(SB)/8, $0x8080800b80808008
DATA lumaMaskB<>+16(SB)/8, $0x8080800580808002
DATA lumaMaskB<>+24(SB)/8, $0x8080800b80808008
GLOBL lumaMaskB<>(SB), RODATA|NOPTR, $32

DATA lumaPack<>+0(SB)/8, $0x808080800c080400
DATA lumaPack<>+8(SB)/8, $0x8080808080808080
DATA lumaPack<>+16(SB)/8, $0x808080800c080400
DATA lumaPack<>+24(SB)/8, $0x8080808080808080
GLOBL lumaPack<>(SB), RODATA|NOPTR, $32

DATA lumaPerm<>+0(SB)/8, $0x0000000400000000
DATA lumaPerm<>+8(SB)/8, $0
DATA lumaPerm<>+16(SB)/8, $0
DATA lumaPerm<>+24(SB)/8, $0
GLOBL lumaPerm<>(SB), RODATA|NOPTR, $32

DATA lumaW<>+0(SB)/4, $19595
DATA lumaW<>+4(SB)/4, $38470
DATA lumaW<>+8(SB)/4, $7471
DATA lumaW<>+12(SB)/4, $0x8000
GLOBL lumaW<>(SB), RODATA|NOPTR, $16

// func lumaAVX2(dst *uint8, rgb *uint8, n int)
//
// dst[i] = (19595*R + 38470*G + 7471*B + 0x8000) >> 16 for i < n, n a multiple of 8.
// It reads 4 bytes past the last pixel: the caller guarantees 3*n+4 readable bytes.
TEXT ·lumaAVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         rgb+8(FP), SI
	MOVQ         n+16(FP), CX
	VMOVDQU      lumaMaskR<>(SB), Y8
	VMOVDQU      lumaMaskG<>(SB), Y9
	VMOVDQU      lumaMaskB<>(SB), Y10
	VMOVDQU      lumaPack<>(SB), Y11
	VMOVDQU      lumaPerm<>(SB), Y12
	VPBROADCASTD lumaW<>+0(SB), Y13
	VPBROADCASTD lumaW<>+4(SB), Y14
	VPBROADCASTD lumaW<>+8(SB), Y15
	VPBROADCASTD lumaW<>+12(SB), Y7

loop:
	CMPQ        CX, $8
	JLT         done
	VMOVDQU     (SI), X0
	VINSERTI128 $1, 12(SI), Y0, Y0
	VPSHUFB     Y8, Y0, Y1
	VPSHUFB     Y9, Y0, Y2
	VPSHUFB     Y10, Y0, Y3
	VPMULLD     Y13, Y1, Y1
	VPMULLD     Y14, Y2, Y2
	VPMULLD     Y15, Y3, Y3
	VPADDD      Y2, Y1, Y1
	VPADDD      Y3, Y1, Y1
	VPADDD      Y7, Y1, Y1
	VPSRLD      $16, Y1, Y1
	VPSHUFB     Y11, Y1, Y1
	VPERMD      Y1, Y12, Y1
	VMOVQ       X1, (DI)
	ADDQ        $24, SI
	ADDQ        $8, DI
	SUBQ        $8, CX
	JMP         loop

done:
	VZEROUPPER
	RET
