module github.com/wasmcmp/wasmcmp/guests/go

go 1.24
