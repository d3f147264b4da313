def run():
    acc = 0
    i = 0
    while i < 10000000:
        acc = (acc + i * 3) % 1000003
        i += 1
    return acc
print(run())
