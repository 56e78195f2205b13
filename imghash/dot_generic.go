package imghash

// dot returns sum(src[i]*k[i]) in int32 arithmetic; len(k) must be at least len(src).
func dot(src []uint8, k []int32) int32 { return dotGeneric(src, k) }
