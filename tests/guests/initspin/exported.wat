;; A reactor (like Go's c-shared guests) whose _initialize never returns.
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $forever (br $forever)))
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (local.get $b)))
  (func (export "cube") (param $a i32) (result i32)
    (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a))))
