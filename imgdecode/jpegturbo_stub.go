package imgdecode

func decodeJPEGTurbo(data []byte, opts Options) (*Image, error) {
	return decodeJPEGStd(data, opts) // TEMPORARY until the libjpeg-turbo port lands
}
