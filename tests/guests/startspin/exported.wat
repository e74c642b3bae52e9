;; Correct add and cube, but the module's start function spins forever: instantiating it
;; never returns unless the deadline stops it.
(module
  (func $spin (loop $forever (br $forever)))
  (start $spin)
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (local.get $b)))
  (func (export "cube") (param $a i32) (result i32)
    (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a))))
