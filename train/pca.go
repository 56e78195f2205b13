package train

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// PCA projects points (rows of equal length) on their first k principal components: it
// centres them on their mean and takes the singular value decomposition of the centred
// matrix. It returns the projections (one row of k numbers per point) and the share of the
// variance each component explains. Signs are fixed so that each component's largest
// loading is positive (an SVD's signs are arbitrary).
func PCA(points [][]float32, k int) (proj [][]float64, explained []float64, err error) {
	n := len(points)
	if n < 2 || k <= 0 {
		return nil, nil, fmt.Errorf("train: pca of %d points on %d components", n, k)
	}
	d := len(points[0])
	if k > min(n, d) {
		return nil, nil, fmt.Errorf("train: pca: %d components of %d points in %d dimensions", k, n, d)
	}
	x := mat.NewDense(n, d, nil)
	mean := make([]float64, d)
	for i, p := range points {
		if len(p) != d {
			return nil, nil, fmt.Errorf("train: pca: point %d has %d numbers, want %d", i, len(p), d)
		}
		for j, v := range p {
			mean[j] += float64(v) / float64(n)
		}
	}
	for i, p := range points {
		for j, v := range p {
			x.Set(i, j, float64(v)-mean[j])
		}
	}
	var svd mat.SVD
	if !svd.Factorize(x, mat.SVDThin) {
		return nil, nil, fmt.Errorf("train: pca: SVD did not converge")
	}
	var v mat.Dense
	svd.VTo(&v)
	sv := svd.Values(nil)
	total := 0.0
	for _, s := range sv {
		total += s * s
	}
	proj = make([][]float64, n)
	for i := range proj {
		proj[i] = make([]float64, k)
	}
	for c := range k {
		sign, big := 1.0, 0.0
		for j := range d {
			if a := v.At(j, c); a*a > big*big {
				big = a
			}
		}
		if big < 0 {
			sign = -1
		}
		for i := range n {
			s := 0.0
			for j := range d {
				s += x.At(i, j) * v.At(j, c)
			}
			proj[i][c] = sign * s
		}
		if total > 0 {
			explained = append(explained, sv[c]*sv[c]/total)
		} else {
			explained = append(explained, 0)
		}
	}
	return proj, explained, nil
}
