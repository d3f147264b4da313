# Recursive calls: fib(30).
fun fib(n)
    if n < 2
        return n
    end
    fib(n - 1) + fib(n - 2)
end
puts(fib(30))
