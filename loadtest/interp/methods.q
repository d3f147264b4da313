# Method calls on a user type: 2M calls that read and write fields.
type Counter
    pub count: Int
    fun add(n)
        self.count = self.count + n
        self
    end
    fun get()
        self.count
    end
end

fun run()
    let c = Counter.new(count: 0)
    let i = 0
    while i < 1000000
        c.add(i % 7)
        i += c.get() % 2
        i += 1
    end
    c.get()
end
puts(run())
