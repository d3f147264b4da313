# A script run by tests/e2e/cli_test.sh: a function, a loop, puts.

fun greet(name)
    "Hello, " .. name .. "!"
end

puts(greet("Quest"))

for i in 1 to 5
    puts(i, " squared is ", i * i)
end
