package simulate

// chunkSize is how many entries one chunk of a growing list holds.
const chunkSize = 256

// chunks is a list that grows by whole chunks instead of by doubling one array: a long trace is
// then copied once, into a result of exactly its size, instead of about twice while it grows, and
// a pointer to an entry stays valid while later entries are added.
type chunks[T any] struct {
	full []*[chunkSize]T
	last *[chunkSize]T
	n    int
}

// add appends a zero entry and returns it to be filled in.
func (c *chunks[T]) add() *T {
	i := c.n % chunkSize
	if i == 0 {
		c.last = new([chunkSize]T)
		c.full = append(c.full, c.last)
	}
	c.n++
	return &c.last[i]
}

// len is the number of entries.
func (c *chunks[T]) len() int { return c.n }

// at returns entry i.
func (c *chunks[T]) at(i int) *T { return &c.full[i/chunkSize][i%chunkSize] }

// slice copies the entries into one slice, never nil.
func (c *chunks[T]) slice() []T {
	out := make([]T, 0, c.n)
	for i, ch := range c.full {
		n := chunkSize
		if i == len(c.full)-1 {
			n = c.n - i*chunkSize
		}
		out = append(out, ch[:n]...)
	}
	return out
}
