package models_test

import (
	"fmt"

	"github.com/genquorum/genquorum/models"
)

// The built-in base model, named by its name and the SHA-256 of its file, as tasks name it.
func ExampleDiffusion() {
	nm, err := models.Diffusion("base")
	if err != nil {
		panic(err)
	}
	fmt.Println(nm.Name, nm.Digest.String()[:16], nm.Model.Config.ImageSize)
	// Output: base 86005ccb1703cc6e 32
}
