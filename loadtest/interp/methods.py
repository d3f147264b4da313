class Counter:
    def __init__(self, count):
        self.count = count

    def add(self, n):
        self.count = self.count + n
        return self

    def get(self):
        return self.count

def run():
    c = Counter(count=0)
    i = 0
    while i < 1000000:
        c.add(i % 7)
        i += c.get() % 2
        i += 1
    return c.get()
print(run())
