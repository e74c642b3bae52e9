;; The smallest twin of the Go imported add guest: _start loops forever,
;; asking for operands at addresses 0 and 4 and answering with their sum.
(module
  (import "conduit" "add_request" (func $add_request (param i32 i32)))
  (import "conduit" "add_response" (func $add_response (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $serve
      (call $add_request (i32.const 0) (i32.const 4))
      (call $add_response
        (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4))))
      (br $serve))))
