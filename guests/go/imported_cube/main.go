// Command imported_cube is the seed's imported guest for cube: main loops
// forever, asking the host for an operand through cube_request and handing
// back its cube through cube_response.
package main

//go:wasmimport conduit cube_request
func cubeRequest() int32

//go:wasmimport conduit cube_response
func cubeResponse(cube int32)

func main() {
	for {
		a := cubeRequest()
		cubeResponse(a * a * a)
	}
}
