use ".cycle_a"
pub let name = "b"
