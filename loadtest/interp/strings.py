def run():
    parts = []
    for i in range(1000000):
        parts.append("item" + str(i))
    return len(",".join(parts))
print(run())
