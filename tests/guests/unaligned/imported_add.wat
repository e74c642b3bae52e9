;; The imported add loop with its operands at unaligned addresses 1 and 6; wasm's i32.load
;; and i32.store allow any alignment, so the host must write them there too.
(module
  (import "conduit" "add_request" (func $req (param i32 i32)))
  (import "conduit" "add_response" (func $resp (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $serve
      (call $req (i32.const 1) (i32.const 6))
      (call $resp (i32.add (i32.load (i32.const 1)) (i32.load (i32.const 6))))
      (br $serve))))
