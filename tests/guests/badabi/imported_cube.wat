;; Imports a conduit function the host does not provide.
(module
  (import "conduit" "cube_request" (func $req (result i32)))
  (import "conduit" "cube_response" (func $resp (param i32)))
  (import "conduit" "cube_log" (func $log (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (loop $serve (call $resp (call $req)) (br $serve))))
