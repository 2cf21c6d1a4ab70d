package configs

// lineIndex maps the YAML path of every setting present in the file
// ("cameras[1].device") to its line, so validation errors, which only know
// paths, can point into the file.
type lineIndex map[string]int

func (ix lineIndex) set(path string, line int) { ix[path] = line }

func (ix lineIndex) has(path string) bool {
	_, ok := ix[path]
	return ok
}

// lookup returns the line of path or, when the file leaves it out, of its
// nearest parent that is there; 0 when none is.
func (ix lineIndex) lookup(path string) int {
	for path != "" {
		if l, ok := ix[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}
