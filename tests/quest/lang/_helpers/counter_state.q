# Module state shared by every importer: the module runs once.

let hits = 0
pub let loaded_times = 0
loaded_times += 1

pub fun hit()
    hits += 1
    hits
end
