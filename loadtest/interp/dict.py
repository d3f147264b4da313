def run():
    d = {}
    for i in range(1000000):
        d["key" + str(i)] = i
    s = 0
    for i in range(1000000):
        s += d["key" + str(i)]
    return s
print(run())
