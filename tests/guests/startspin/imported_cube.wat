;; The imported cube loop behind a start function that spins forever.
(module
  (import "conduit" "cube_request" (func $req (result i32)))
  (import "conduit" "cube_response" (func $resp (param i32)))
  (memory (export "memory") 1)
  (func $spin (loop $forever (br $forever)))
  (start $spin)
  (func (export "_start")
    (local $a i32)
    (loop $serve
      (local.set $a (call $req))
      (call $resp (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a)))
      (br $serve))))
