// Command exported is the seed's exported guest: the host calls add and cube
// directly through the module's exports. Built as a WASI reactor
// (-buildmode=c-shared), so the host enters it once through _initialize.
package main

//go:wasmexport add
func add(a, b int32) int32 {
	return a + b
}

//go:wasmexport cube
func cube(a int32) int32 {
	return a * a * a
}

func main() {}
