package imgdecode

import "os"

func readTestFile(path string) ([]byte, error) { return os.ReadFile(path) }
