// Command imported_add is the seed's imported guest for add: main loops
// forever, asking the host for two operands through add_request and handing
// back their sum through add_response.
package main

//go:wasmimport conduit add_request
func addRequest(a, b *int32)

//go:wasmimport conduit add_response
func addResponse(sum int32)

func main() {
	var a, b int32
	for {
		addRequest(&a, &b)
		addResponse(a + b)
	}
}
