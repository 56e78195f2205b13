//go:build !noasm

#include "textflag.h"

// func qkLanesAVX(hd, nkeys int, qT *float32, ldq int, k *float32, ldk int, s *float32, lds int)
TEXT ·qkLanesAVX(SB), NOSPLIT, $0-64
	MOVQ hd+0(FP), R8
	MOVQ nkeys+8(FP), CX
	MOVQ qT+16(FP), R9
	MOVQ ldq+24(FP), R10
	MOVQ k+32(FP), SI
	MOVQ ldk+40(FP), R11
	MOVQ s+48(FP), DX
	MOVQ lds+56(FP), R12

key:
	VXORPS Y0, Y0, Y0
	MOVQ R9, DI
	MOVQ SI, AX
	MOVQ R8, BX

elem:
	// acc += k[j][e] · qT[e][lane]: VMULPS then VADDPS, two roundings as in attend.
	VBROADCASTSS (AX), Y1
	VMULPS (DI), Y1, Y2
	VADDPS Y2, Y0, Y0
	ADDQ $4, AX
	ADDQ R10, DI
	DECQ BX
	JNZ elem

	VMOVUPS Y0, (DX)
	ADDQ R11, SI
	ADDQ R12, DX
	DECQ CX
	JNZ key
	VZEROUPPER
	RET

// func pvAVX(n int, p *float32, v *float32, ldv int, acc *float32, hd16 int)
TEXT ·pvAVX(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), R8
	MOVQ p+8(FP), R9
	MOVQ v+16(FP), R10
	MOVQ ldv+24(FP), R11
	MOVQ acc+32(FP), DX
	MOVQ hd16+40(FP), BX

chunk:
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y3
	MOVQ R9, SI
	MOVQ R10, DI
	MOVQ R8, CX

key:
	// acc[e] += p[j] · v[j][e] for sixteen e: VMULPS then VADDPS, two roundings as in attend.
	VBROADCASTSS (SI), Y1
	VMULPS (DI), Y1, Y2
	VMULPS 32(DI), Y1, Y4
	VADDPS Y2, Y0, Y0
	VADDPS Y4, Y3, Y3
	ADDQ $4, SI
	ADDQ R11, DI
	DECQ CX
	JNZ key

	VMOVUPS Y0, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ $64, DX
	ADDQ $64, R10
	DECQ BX
	JNZ chunk
	VZEROUPPER
	RET
