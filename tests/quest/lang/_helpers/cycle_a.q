use ".cycle_b"
pub let name = "a"
