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

// Constants of colorPrepAVX2.
DATA prepSub<>+0(SB)/4, $5
DATA prepSub<>+4(SB)/4, $3
DATA prepSub<>+8(SB)/4, $0
DATA prepSub<>+12(SB)/4, $2
DATA prepSub<>+16(SB)/4, $4
DATA prepSub<>+20(SB)/4, $0
DATA prepSub<>+24(SB)/4, $1
DATA prepSub<>+28(SB)/4, $0
GLOBL prepSub<>(SB), RODATA|NOPTR, $32

DATA prepC4<>+0(SB)/4, $4
DATA prepC4<>+4(SB)/4, $4
DATA prepC4<>+8(SB)/4, $4
DATA prepC4<>+12(SB)/4, $4
DATA prepC4<>+16(SB)/4, $4
DATA prepC4<>+20(SB)/4, $4
DATA prepC4<>+24(SB)/4, $4
DATA prepC4<>+28(SB)/4, $4
GLOBL prepC4<>(SB), RODATA|NOPTR, $32

DATA prepC2<>+0(SB)/4, $2
DATA prepC2<>+4(SB)/4, $2
DATA prepC2<>+8(SB)/4, $2
DATA prepC2<>+12(SB)/4, $2
DATA prepC2<>+16(SB)/4, $2
DATA prepC2<>+20(SB)/4, $2
DATA prepC2<>+24(SB)/4, $2
DATA prepC2<>+28(SB)/4, $2
GLOBL prepC2<>(SB), RODATA|NOPTR, $32

DATA prepC1<>+0(SB)/4, $1
DATA prepC1<>+4(SB)/4, $1
DATA prepC1<>+8(SB)/4, $1
DATA prepC1<>+12(SB)/4, $1
DATA prepC1<>+16(SB)/4, $1
DATA prepC1<>+20(SB)/4, $1
DATA prepC1<>+24(SB)/4, $1
DATA prepC1<>+28(SB)/4, $1
GLOBL prepC1<>(SB), RODATA|NOPTR, $32

DATA prepC31<>+0(SB)/4, $31
DATA prepC31<>+4(SB)/4, $31
DATA prepC31<>+8(SB)/4, $31
DATA prepC31<>+12(SB)/4, $31
DATA prepC31<>+16(SB)/4, $31
DATA prepC31<>+20(SB)/4, $31
DATA prepC31<>+24(SB)/4, $31
DATA prepC31<>+28(SB)/4, $31
GLOBL prepC31<>(SB), RODATA|NOPTR, $32

DATA prepBlack<>+0(SB)/4, $0xff00
DATA prepBlack<>+4(SB)/4, $0xff00
DATA prepBlack<>+8(SB)/4, $0xff00
DATA prepBlack<>+12(SB)/4, $0xff00
DATA prepBlack<>+16(SB)/4, $0xff00
DATA prepBlack<>+20(SB)/4, $0xff00
DATA prepBlack<>+24(SB)/4, $0xff00
DATA prepBlack<>+28(SB)/4, $0xff00
GLOBL prepBlack<>(SB), RODATA|NOPTR, $32

// func colorPrepAVX2(l *uint8, idx *uint32, rgb *uint8, n int)
//
// For i < n (a multiple of 8), the luma l[i] as lumaAVX2 computes it and the colour index
// idx[i] as colorPrepGeneric computes it: sub<<24 | max<<16 | (max-min)<<8 | (max-mid), or
// 0xff00 for a black pixel (l < 32). It reads 4 bytes past the last pixel: the caller
// guarantees 3*n+4 readable bytes.
TEXT ·colorPrepAVX2(SB), NOSPLIT, $0-32
	MOVQ         l+0(FP), DI
	MOVQ         idx+8(FP), BX
	MOVQ         rgb+16(FP), SI
	MOVQ         n+24(FP), CX
	VMOVDQU      lumaMaskR<>(SB), Y8
	VMOVDQU      lumaMaskG<>(SB), Y9
	VMOVDQU      lumaMaskB<>(SB), Y10
	VMOVDQU      lumaPack<>(SB), Y11
	VMOVDQU      lumaPerm<>(SB), Y12
	VPBROADCASTD lumaW<>+0(SB), Y13
	VPBROADCASTD lumaW<>+4(SB), Y14
	VPBROADCASTD lumaW<>+8(SB), Y15
	VPBROADCASTD lumaW<>+12(SB), Y7

prep:
	CMPQ        CX, $8
	JLT         prepdone
	VMOVDQU     (SI), X0
	VINSERTI128 $1, 12(SI), Y0, Y0
	VPSHUFB     Y8, Y0, Y1 // R
	VPSHUFB     Y9, Y0, Y2 // G
	VPSHUFB     Y10, Y0, Y3 // B

	// Luma, as lumaAVX2.
	VPMULLD Y13, Y1, Y4
	VPMULLD Y14, Y2, Y5
	VPADDD  Y5, Y4, Y4
	VPMULLD Y15, Y3, Y5
	VPADDD  Y5, Y4, Y4
	VPADDD  Y7, Y4, Y4
	VPSRLD  $16, Y4, Y4 // L
	VPSHUFB Y11, Y4, Y5
	VPERMD  Y5, Y12, Y5
	VMOVQ   X5, (DI)

	// Case code (r>=g)*4 | (r>=b)*2 | (g>=b), then the hue case from prepSub.
	VPMAXUD      Y2, Y1, Y5
	VPCMPEQD     Y1, Y5, Y6
	VPAND        prepC4<>(SB), Y6, Y6
	VPMAXUD      Y3, Y5, Y5 // max
	VPMAXUD      Y3, Y1, Y0
	VPCMPEQD     Y1, Y0, Y0
	VPAND        prepC2<>(SB), Y0, Y0
	VPOR         Y0, Y6, Y6
	VPMAXUD      Y3, Y2, Y0
	VPCMPEQD     Y2, Y0, Y0
	VPAND        prepC1<>(SB), Y0, Y0
	VPOR         Y0, Y6, Y6
	VPERMD       prepSub<>(SB), Y6, Y6 // sub

	VPMINUD Y2, Y1, Y0
	VPMINUD Y3, Y0, Y0 // min
	VPADDD  Y2, Y1, Y1
	VPADDD  Y3, Y1, Y1 // r+g+b
	VPADDD  Y5, Y5, Y2
	VPADDD  Y0, Y2, Y2
	VPSUBD  Y1, Y2, Y2 // d = 2*max + min - (r+g+b) = max - mid
	VPSUBD  Y0, Y5, Y0 // cr = max - min

	VPSLLD $24, Y6, Y6
	VPSLLD $16, Y5, Y5
	VPSLLD $8, Y0, Y0
	VPOR   Y5, Y6, Y6
	VPOR   Y0, Y6, Y6
	VPOR   Y2, Y6, Y6

	// Black pixels (L <= 31) get 0xff00.
	VPCMPGTD prepC31<>(SB), Y4, Y3 // L > 31
	VPAND    Y3, Y6, Y6
	VPANDN   prepBlack<>(SB), Y3, Y1
	VPOR     Y1, Y6, Y6
	VMOVDQU  Y6, (BX)

	ADDQ $24, SI
	ADDQ $8, DI
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  prep

prepdone:
	VZEROUPPER
	RET
