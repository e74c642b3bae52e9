;; The smallest twin of the Go imported cube guest: _start loops forever,
;; asking for an operand and answering with its cube.
(module
  (import "conduit" "cube_request" (func $cube_request (result i32)))
  (import "conduit" "cube_response" (func $cube_response (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $a i32)
    (loop $serve
      (local.set $a (call $cube_request))
      (call $cube_response
        (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a)))
      (br $serve))))
