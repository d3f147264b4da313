# Imports a sibling with a relative path: `.` means this file's folder.
use ".plain" as p

pub fun answer_plus(n) p.answer() + n end
