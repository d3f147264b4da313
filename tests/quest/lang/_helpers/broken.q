pub let a = 1
raise ValueErr.new("broken module")
