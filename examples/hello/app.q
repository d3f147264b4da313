# The hello example: `make run` runs it.
# Core syntax only (a function, a loop, puts); it grows into a web app once
# `quest serve` exists.

fun greet(name)
    "Hello, " .. name .. "!"
end

puts(greet("Quest"))

for i in 1 to 5
    puts(i, " squared is ", i * i)
end
